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

/** Read once: `process` is an accessor on the global object, a getter call on every use. */
const nextTick = process.nextTick;
/**
 * Settled once: `then` on it queues a microtask. Node's `queueMicrotask` wraps each callback in
 * an AsyncResource and a bound function (~500 instructions per sequential call, callgrind).
 */
const settled = Promise.resolve();

/**
 * Callbacks due at the end of this tick (see `atEndOfTick`), in slots `[0, endOfTickCount)`: the
 * array keeps its capacity from tick to tick (no splice, no regrowing), and a slot is cleared as
 * its callback runs.
 */
const endOfTickQueue: Array<(() => void) | null> = [];
let endOfTickCount = 0;
let endOfTickScheduled = false;

function runEndOfTick(): void {
  let i = 0;
  try {
    // Callbacks added while these run (none of ours does) run in this same pass.
    for (; i < endOfTickCount; i++) {
      const callback = endOfTickQueue[i]!;
      endOfTickQueue[i] = null;
      callback();
    }
  } finally {
    // A callback that threw (slot i) loses nothing behind it: the rest run in a tick of their own.
    let kept = 0;
    for (let k = i + 1; k < endOfTickCount; k++) {
      endOfTickQueue[kept++] = endOfTickQueue[k]!;
      endOfTickQueue[k] = null;
    }
    endOfTickCount = kept;
    endOfTickScheduled = kept > 0;
    if (endOfTickScheduled) nextTick(runEndOfTick);
  }
}

/** Queued as a microtask: the nextTick it asks for runs once the microtask queue is empty. */
function scheduleEndOfTick(): void {
  nextTick(runEndOfTick);
}

/**
 * Calls `callback` once the current synchronous work and the microtasks it queued are done,
 * sharing one pass among everything due at the end of this tick: the tick clocks' reset and the
 * write coalescers' flushes (a sequential call scheduled three `process.nextTick`s for them, each
 * ~700 instructions with its tick object and queue work).
 *
 * A microtask that asks for a `process.nextTick`, not a nextTick at once: in an I/O callback a
 * nextTick runs before the promise reactions that callback queued, so the callers those replies
 * resume (`await client.get()`, then the next call) would find the tick clocks reset and read the
 * clock, and schedule this pass, a second time per sequential call. Queued first, the microtask
 * runs before those reactions, and the nextTick it asks for only once all of them ran: one clock
 * read and one pass for the reply and the call it leads to.
 */
export function atEndOfTick(callback: () => void): void {
  endOfTickQueue[endOfTickCount++] = callback;
  if (!endOfTickScheduled) {
    endOfTickScheduled = true;
    void settled.then(scheduleEndOfTick);
  }
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
  endOfTick: atEndOfTick,
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
 * What the `TickClock`s of one underlying clock share: the stamp of the current tick and the last
 * long synchronous stretch. One per clock, so the client's call clock and every pipeline's send
 * clock read the real clock once per tick between them, and schedule one end-of-tick callback,
 * not one each (measured: a sequential call opened its tick with three clock reads and three
 * `process.nextTick`s for these stamps).
 */
class TickState {
  stamp = 0;
  reads = 0;
  /** Clock time of the first read in this tick; 0 when no tick is open. */
  tickStart = 0;
  /** Some clock on it records long ticks (one more clock read per tick). */
  watchTicks = false;
  busyFrom = 0;
  busyUntil = 0;
  readonly reset = (): void => {
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

  constructor(private readonly clock: Clock) {}
}

const tickStates = new WeakMap<Clock, TickState>();

function tickStateOf(clock: Clock): TickState {
  let state = tickStates.get(clock);
  if (state === undefined) {
    state = new TickState(clock);
    tickStates.set(clock, state);
  }
  return state;
}

/**
 * A clock read that is shared by the calls made close together: the real clock is read once per
 * tick, or again after `readsPerStamp` reads within one long tick, so a stamp is never older than
 * that many calls (~0.2 ms). Reading time is a system call on some VMs (measured: 10 % of a
 * pipelined get here when read once per call). Every TickClock of one underlying clock shares
 * the stamp (see `TickState`).
 *
 * It also notices our own bursts, at one more clock read per tick (not per call): a synchronous
 * stretch that used it for longer than `STALL_TOLERANCE_MS` (150,000 calls issued in one loop
 * took 953 ms) is recorded as `busyFrom`–`busyUntil`, so a deadline that passed meanwhile is
 * blamed on our loop, not on a server whose replies we could not read.
 */
export class TickClock {
  private readonly state: TickState;

  constructor(
    private readonly clock: Clock,
    private readonly readsPerStamp = 64,
    /** Record long ticks (one clock read per tick); off where nobody asks (a pipeline's send stamps). */
    watchTicks = true,
  ) {
    this.state = tickStateOf(clock);
    if (watchTicks) this.state.watchTicks = true;
  }

  /** The last long synchronous stretch that used a clock of this underlying clock (0–0 when none yet). */
  get busyFrom(): number {
    return this.state.busyFrom;
  }

  get busyUntil(): number {
    return this.state.busyUntil;
  }

  now(): number {
    const state = this.state;
    if (state.reads === 0) {
      state.stamp = this.clock.now();
      if (state.tickStart === 0) {
        state.tickStart = state.stamp;
        this.clock.endOfTick(state.reset);
      }
    }
    if (++state.reads >= this.readsPerStamp) state.reads = 0;
    return state.stamp;
  }

  /** How much of `[from, to]` our loop spent in the last long stretch this clock saw. */
  busyWithin(from: number, to: number): number {
    const state = this.state;
    return Math.max(0, Math.min(to, state.busyUntil) - Math.max(from, state.busyFrom));
  }
}
