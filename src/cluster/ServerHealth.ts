/**
 * Per-server health: consecutive-failure counting, ejection and timed re-admission. Pure logic
 * with an injected clock; the router and the client decide what a failure is (a transport error
 * or timeout, never a server's answer such as NOT_FOUND).
 *
 * A server is alive until `failures` consecutive failures eject it; any success in between
 * resets the count. An ejected server stays dead until `retryMs` after its last failure; then
 * `claimProbe` hands one caller per retry window the right to try it once. A success on a dead
 * server brings it back (rejoin); a failure on a dead server restarts its retry window.
 */

export interface ServerHealthOptions {
  /** Consecutive failures after which a server is ejected (≥ 1). */
  failures: number;
  /** How long an ejected server stays out before it may be probed, in ms (≥ 0). */
  retryMs: number;
  /** Clock in ms; `Date.now` by default. */
  now?: () => number;
}

interface Entry {
  failures: number;
  dead: boolean;
  ejectedAt: number;
  retryAt: number;
}

export class ServerHealth {
  readonly failures: number;
  readonly retryMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private deadCount = 0;
  /** Servers whose latest outcome was a failure (dead ones included). */
  private failingCount = 0;

  constructor(options: ServerHealthOptions) {
    if (!Number.isInteger(options.failures) || options.failures < 1) {
      throw new RangeError(`failures must be an integer ≥ 1, got ${options.failures}`);
    }
    if (!Number.isFinite(options.retryMs) || options.retryMs < 0) {
      throw new RangeError(`retryMs must be a finite number ≥ 0, got ${options.retryMs}`);
    }
    this.failures = options.failures;
    this.retryMs = options.retryMs;
    this.now = options.now ?? Date.now;
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (e === undefined) {
      e = { failures: 0, dead: false, ejectedAt: 0, retryAt: 0 };
      this.entries.set(id, e);
    }
    return e;
  }

  /** A request to `id` succeeded. Returns true when this brought a dead server back. */
  recordSuccess(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined) return false;
    if (e.failures > 0) this.failingCount--;
    e.failures = 0;
    if (!e.dead) return false;
    e.dead = false;
    this.deadCount--;
    return true;
  }

  /**
   * A request to `id` failed. Returns true when this failure ejected it. A failure while already
   * dead (a failed probe) restarts the retry window and returns false.
   */
  recordFailure(id: string): boolean {
    const e = this.entry(id);
    const now = this.now();
    if (e.failures === 0) this.failingCount++;
    e.failures++;
    if (e.dead) {
      e.retryAt = now + this.retryMs;
      return false;
    }
    if (e.failures < this.failures) return false;
    e.dead = true;
    e.ejectedAt = now;
    e.retryAt = now + this.retryMs;
    this.deadCount++;
    return true;
  }

  /** How many servers' latest outcome was a failure (ejected or not yet). */
  get failing(): number {
    return this.failingCount;
  }

  isAlive(id: string): boolean {
    const e = this.entries.get(id);
    return e === undefined || !e.dead;
  }

  /**
   * True for one caller when `id` is dead and its retry time has come: that caller may probe it,
   * and the next probe is due `retryMs` later unless `recordSuccess` revives the server first.
   */
  claimProbe(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined || !e.dead) return false;
    const now = this.now();
    if (now < e.retryAt) return false;
    e.retryAt = now + this.retryMs;
    return true;
  }

  /** Dead servers whose retry time has come (without claiming them). */
  dueForProbe(): string[] {
    if (this.deadCount === 0) return [];
    const now = this.now();
    const out: string[] = [];
    for (const [id, e] of this.entries) if (e.dead && now >= e.retryAt) out.push(id);
    return out;
  }

  /** The earliest time a dead server may be probed, or undefined when none is dead. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const e of this.entries.values()) {
      if (e.dead && (next === undefined || e.retryAt < next)) next = e.retryAt;
    }
    return next;
  }

  /** Drops everything known about `id` (a server removed from the membership). */
  forget(id: string): void {
    const e = this.entries.get(id);
    if (e?.dead) this.deadCount--;
    if (e !== undefined && e.failures > 0) this.failingCount--;
    this.entries.delete(id);
  }
}
