import type { ClusterRouter } from '../cluster/ClusterRouter.js';
import type { MemcachedCacheError } from '../component/errors.js';
import type { Clock } from '../transport/Clock.js';

/**
 * The one owner of server health: hears connection-level evidence (a connection refused, reset,
 * closed on us or stuck; a handshake that succeeded), turns it into ejections and rejoins through
 * the router, and probes ejected servers when their `retry` time comes.
 *
 * It is only told what the server did. Our own stalls and queueing never reach it: pipelines do
 * not judge a server across a stall of our loop, and a caller's timeout is not evidence.
 */
export class FailureDetector {
  private probeTimer: unknown = null;
  private closed = false;

  constructor(
    private readonly router: ClusterRouter,
    private readonly clock: Clock,
    /** Opens a connection to `id` and resolves when its handshake succeeded. */
    private readonly probe: (id: string) => Promise<unknown>,
  ) {
    router.onChange(() => this.scheduleProbes());
  }

  /** A connection-level failure of `id` (one per event, never one per request). */
  serverFailed(id: string, _error: MemcachedCacheError): void {
    if (this.closed) return;
    this.router.reportFailure(id);
  }

  /** `id` completed a handshake: it is up; a dead one rejoins. */
  serverAnswered(id: string): void {
    if (this.closed) return;
    this.router.reportSuccess(id);
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer !== null) this.clock.clearTimer(this.probeTimer);
    this.probeTimer = null;
  }

  private scheduleProbes(): void {
    if (this.closed || this.probeTimer !== null) return;
    const next = this.router.health.nextRetryAt();
    if (next === undefined) return;
    this.probeTimer = this.clock.setTimer(
      () => {
        this.probeTimer = null;
        this.probeDue();
      },
      Math.max(10, next - Date.now()),
    );
  }

  /** Tries each ejected server whose `retry` time has come; one that answers rejoins the ring. */
  private probeDue(): void {
    for (const id of this.router.dueForProbe()) {
      if (!this.router.claimProbe(id)) continue;
      this.probe(id)
        .then(
          () => this.serverAnswered(id),
          () => this.router.reportFailure(id),
        )
        .finally(() => this.scheduleProbes());
    }
    this.scheduleProbes();
  }
}
