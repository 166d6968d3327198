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
  /** Ejected servers that answered and are being made fit to rejoin (see `beforeRejoin`). */
  private readonly rejoining = new Set<string>();

  constructor(
    private readonly router: ClusterRouter,
    private readonly clock: Clock,
    /** Opens a connection to `id` and resolves when its handshake succeeded. */
    private readonly probe: (id: string) => Promise<unknown>,
    /**
     * What must happen on an ejected server that answers before it rejoins the ring (the outage
     * replay): null when nothing, else a promise of it. It is asked again when that work is done,
     * until it answers null; a failure keeps the server out until its next probe.
     */
    private readonly beforeRejoin: (id: string) => Promise<void> | null = () => null,
  ) {
    router.onChange(() => this.scheduleProbes());
  }

  /** A connection-level failure of `id` (one per event, never one per request). */
  serverFailed(id: string, _error: MemcachedCacheError): void {
    if (this.closed) return;
    this.router.reportFailure(id);
  }

  /**
   * `id` completed a handshake: it is up. A dead one rejoins once `beforeRejoin` has nothing left
   * to do: the check and the rejoin happen in one synchronous step, so no change made in between
   * can be missed.
   */
  serverAnswered(id: string): void {
    if (this.closed) return;
    if (this.router.isAlive(id)) {
      this.router.reportSuccess(id);
      return;
    }
    if (this.rejoining.has(id)) return;
    const work = this.beforeRejoin(id);
    if (work === null) {
      this.router.reportSuccess(id);
      return;
    }
    this.rejoining.add(id);
    work.then(
      () => {
        this.rejoining.delete(id);
        this.serverAnswered(id);
      },
      () => {
        this.rejoining.delete(id);
        if (this.closed) return;
        // It answered the probe but not the replay: not fit to rejoin; probed again after `retry`.
        this.router.reportFailure(id);
        this.scheduleProbes();
      },
    );
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
