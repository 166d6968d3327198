import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/**
 * Time as the engine sees it, injected so that every timing rule can be tested with a scripted
 * clock (test/transport) instead of real waits.
 */
export interface Clock {
  /** Milliseconds that never go backwards. */
  now(): number;
  /** Calls `callback` after `delayMs`; the timer never keeps the process alive. */
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Calls `callback` after the event loop's next I/O poll. Node runs timers *before* it reads
   * sockets, so a deadline judged straight from a timer would miss replies that already sit in
   * the socket buffer; judged here, every reply that has arrived was delivered first.
   */
  afterIO(callback: () => void): void;
  /** Calls `callback` once the current synchronous work is done (before any I/O). */
  endOfTick(callback: () => void): void;
  /**
   * Optional: a mark of our event loop's activity so far, for `busySince`. A scripted clock
   * leaves both out (its loop is never busy).
   */
  loopMark?(): unknown;
  /** The share of the time since `mark` that our loop was busy (not waiting for I/O): 0–1. */
  busySince?(mark: unknown): number;
}

let lastNow = 0;
let backwardsOffset = 0;

/**
 * `Date.now()` made non-decreasing: a wall clock set back (NTP step) holds still instead of
 * running backwards, then advances again from there. Read on every call, so it must be cheap:
 * `performance.now()` cost ~0.3 µs per read here, ~4 % of a pipelined get (measured with the
 * bench's bundle); `Date.now()` is a V8 builtin. A clock set forward looks like a stall of our
 * loop, which the timers already treat leniently.
 */
function monotonicNow(): number {
  let now = Date.now() + backwardsOffset;
  if (now < lastNow) {
    backwardsOffset += lastNow - now;
    now = lastNow;
  }
  lastNow = now;
  return now;
}

export const systemClock: Clock = {
  now: monotonicNow,
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(1, delayMs));
    timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
  afterIO(callback) {
    setImmediate(callback);
  },
  endOfTick(callback) {
    process.nextTick(callback);
  },
  loopMark() {
    return performance.eventLoopUtilization();
  },
  busySince(mark) {
    return performance.eventLoopUtilization(performance.eventLoopUtilization(), mark as EventLoopUtilization)
      .utilization;
  },
};

/**
 * A timer that fires this much later than it was due means our own event loop was blocked (a
 * long synchronous task, a GC pause): whatever looked overdue then is our stall, not the
 * server's silence.
 */
export const STALL_TOLERANCE_MS = 50;

/** How long the loop was stalled, judging by a timer due at `dueAt` that ran at `ranAt`; 0 if on time. */
export function stallMs(dueAt: number, ranAt: number): number {
  const late = ranAt - dueAt;
  return late > STALL_TOLERANCE_MS ? late : 0;
}

/**
 * After a stall of our own loop, a deadline waits this much longer, once: replies that arrived
 * during the stall are read and delivered meanwhile, instead of being timed out.
 */
export const STALL_GRACE_MS = 25;

/**
 * A deadline timer that does not blame others for our stalls: `callback` runs after the I/O poll
 * that follows the due time, and if the timer fired late (our loop was blocked) it first waits
 * one more short grace, so what arrived during the stall is handled before judging.
 */
export class PatientTimer {
  private handle: unknown = null;
  private dueAt = 0;
  private inGrace = false;
  private stalled = false;
  /** How late (beyond the tolerance) the timer fired the last time it ran: our loop's stall. */
  lateByMs = 0;
  private readonly afterPoll = (): void => this.afterIO();

  constructor(
    private readonly clock: Clock,
    private readonly callback: () => void,
  ) {}

  get armed(): boolean {
    return this.handle !== null;
  }

  /** (Re)arms the timer `delayMs` from now. */
  start(delayMs: number): void {
    this.cancel();
    this.inGrace = false;
    this.schedule(delayMs);
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.handle = null;
  }

  private schedule(delayMs: number): void {
    this.dueAt = this.clock.now() + delayMs;
    this.handle = this.clock.setTimer(() => {
      const late = stallMs(this.dueAt, this.clock.now());
      this.stalled = late > 0;
      if (!this.inGrace) this.lateByMs = late;
      this.clock.afterIO(this.afterPoll);
    }, delayMs);
  }

  private afterIO(): void {
    if (this.handle === null) return; // cancelled meanwhile
    if (this.stalled && !this.inGrace) {
      this.inGrace = true;
      this.schedule(STALL_GRACE_MS);
      return;
    }
    this.handle = null;
    this.inGrace = false;
    this.callback();
  }
}

/**
 * A clock read that is shared by the calls made close together: the real clock is read once per
 * tick, or again after `readsPerStamp` reads within one long tick, so a stamp is never older than
 * that many calls (~0.2 ms). Reading time is a system call on some VMs (measured: 10 % of a
 * pipelined get here when read once per call).
 *
 * It also notices our own bursts, at one more clock read per tick (not per call): a synchronous
 * stretch that used it for longer than `STALL_TOLERANCE_MS` (150,000 calls issued in one loop
 * took 953 ms) is recorded as `busyFrom`–`busyUntil`, so a deadline that passed meanwhile is
 * blamed on our loop, not on a server whose replies we could not read.
 */
export class TickClock {
  private stamp = 0;
  private reads = 0;
  /** Clock time of the first read in this tick; 0 when no tick is open. */
  private tickStart = 0;
  /** The last long synchronous stretch that used this clock (0–0 when none yet). */
  busyFrom = 0;
  busyUntil = 0;
  private readonly reset = (): void => {
    this.reads = 0;
    const start = this.tickStart;
    this.tickStart = 0;
    if (!this.watchTicks) return;
    const end = this.clock.now();
    if (end - start > STALL_TOLERANCE_MS) {
      this.busyFrom = start;
      this.busyUntil = end;
    }
  };

  constructor(
    private readonly clock: Clock,
    private readonly readsPerStamp = 64,
    /** Record long ticks (one clock read per tick); off where nobody asks (a pipeline's send stamps). */
    private readonly watchTicks = true,
  ) {}

  now(): number {
    if (this.reads === 0) {
      this.stamp = this.clock.now();
      if (this.tickStart === 0) {
        this.tickStart = this.stamp;
        this.clock.endOfTick(this.reset);
      }
    }
    if (++this.reads >= this.readsPerStamp) this.reads = 0;
    return this.stamp;
  }

  /** How much of `[from, to]` our loop spent in the last long stretch this clock saw. */
  busyWithin(from: number, to: number): number {
    return Math.max(0, Math.min(to, this.busyUntil) - Math.max(from, this.busyFrom));
  }
}
