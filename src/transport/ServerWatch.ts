import { TimeoutError } from '../component/errors.js';
import { type Clock, stallMs } from './Clock.js';

/** What the watch reads of the request queue it judges (one connection's pipeline). */
export interface WatchedQueue {
  /** The oldest request in the queue (`sentAt` 0 while it is not written yet), or null. */
  oldest(): { readonly sentAt: number } | null;
  /** Written requests whose callers gave up, still waiting for their replies. */
  abandoned(): number;
  /** How many of those may wait before the server is judged sooner (see `Pipeline.abandoned`). */
  readonly maxAbandoned: number;
  /** The server is stuck or too slow: the queue is destroyed with this error. */
  failed(error: TimeoutError): void;
}

/**
 * Judges the server of one connection, never the caller, after the event loop read the sockets
 * and never across a stall of our own loop: the server is stuck when a written request has waited
 * `request_timeout` with no byte at all arriving meanwhile, and too slow when the oldest written
 * request is still unanswered `SLOW_FACTOR` × `request_timeout` after it was written although
 * bytes keep coming (a trickle would otherwise reset the silence forever, and every caller times
 * out). One timer, armed for the oldest written request and left armed while requests come and
 * go: nothing per request but a null check.
 */
export class ServerWatch {
  /** Clock time the server last sent anything: replies streaming in mean it is working. */
  private lastReplyAt = 0;
  /** Clock time the server's silence is measured from after a stall of our loop (see judge). */
  private stallEndedAt = 0;
  private timer: unknown = null;
  private timerDueAt = 0;
  /** The timer fired late: our loop was blocked (see `stallMs`). */
  private stallSeen = false;
  /** How busy our loop had been when the timer was armed (see `Clock.loopMark`). */
  private armedLoop: unknown = null;
  private armedAt = 0;
  private started = false;
  private stopped = false;
  private readonly judgeAfterIO = (): void => this.judge();

  constructor(
    private readonly serverId: string,
    private readonly clock: Clock,
    private readonly requestTimeoutMs: number,
    private readonly queue: WatchedQueue,
  ) {}

  /** The socket connected: the server's clock starts now. */
  start(now: number): void {
    this.started = true;
    this.lastReplyAt = now;
    this.arm();
  }

  /** Bytes arrived from the server. */
  heard(now: number): void {
    this.lastReplyAt = now;
  }

  /** A request was written: the timer runs (armed for the oldest, if it is not already). */
  written(): void {
    if (this.timer === null) this.arm();
  }

  /** The due time moved earlier (the abandoned pile passed its limit): arm again now. */
  rearm(): void {
    if (this.timer === null) return; // a judge already waiting re-arms by itself
    this.clock.clearTimer(this.timer);
    this.timer = null;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /**
   * When the oldest request, if written, becomes overdue: `request_timeout` after it was sent or
   * the server last sent anything (silent), or `SLOW_FACTOR` × `request_timeout` after it was
   * sent however many bytes trickled in (too slow). Neither is measured across a stall of our loop.
   */
  private dueAt(): number {
    const oldest = this.queue.oldest();
    if (oldest === null || oldest.sentAt === 0) return Number.POSITIVE_INFINITY;
    const since = Math.max(oldest.sentAt, this.stallEndedAt);
    const timeout = this.requestTimeoutMs;
    const slowAfter = this.queue.abandoned() > this.queue.maxAbandoned ? timeout : SLOW_FACTOR * timeout;
    return Math.min(Math.max(since, this.lastReplyAt) + timeout, since + slowAfter);
  }

  private arm(): void {
    if (this.timer !== null || this.stopped || !this.started) return;
    const due = this.dueAt();
    if (due === Number.POSITIVE_INFINITY) return;
    this.timerDueAt = due;
    this.armedLoop = this.clock.loopMark?.() ?? null;
    this.armedAt = this.clock.now();
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.stallSeen = stallMs(this.timerDueAt, this.clock.now()) > 0;
      // Judge after the loop read the sockets: a reply that already arrived is not "overdue".
      this.clock.afterIO(this.judgeAfterIO);
    }, due - this.clock.now());
  }

  private judge(): void {
    if (this.stopped || this.timer !== null) return;
    const now = this.clock.now();
    const timeout = this.requestTimeoutMs;
    // A timer that fired late, or a loop busy nearly all the time since it was armed (a burst of
    // our own, then thousands of replies to read): what looks overdue may be sitting unread.
    // (Over a window long enough to mean something: one busy millisecond is not a saturated loop.)
    const saturated =
      this.armedLoop !== null &&
      now - this.armedAt >= SATURATION_WINDOW_MS &&
      (this.clock.busySince?.(this.armedLoop) ?? 0) >= LOOP_SATURATED;
    if (this.stallSeen || saturated) {
      this.stallSeen = false;
      // Our own loop was blocked: the server is not measured across our stall (a write may have
      // sat in our process meanwhile). But a server silent for STALL_PATIENCE timeouts of real
      // time, or too slow for STALL_PATIENCE times as long, through however many of our stalls,
      // is failing: a starved process must still notice a dead server.
      const oldest = this.queue.oldest();
      const silentFor = oldest === null ? 0 : now - Math.max(oldest.sentAt, this.lastReplyAt);
      const waitedFor = oldest === null ? 0 : now - oldest.sentAt;
      if (silentFor < STALL_PATIENCE * timeout && waitedFor < STALL_PATIENCE * SLOW_FACTOR * timeout) {
        this.stallEndedAt = now;
        this.arm();
        return;
      }
    }
    if (now < this.dueAt()) {
      this.arm();
      return;
    }
    this.queue.failed(this.verdict(now));
  }

  /** The error for a server judged overdue at `now`: silent, not keeping up, or too slow. */
  private verdict(now: number): TimeoutError {
    const timeout = this.requestTimeoutMs;
    const oldest = this.queue.oldest()!;
    const server = this.serverId;
    if (now >= Math.max(oldest.sentAt, this.stallEndedAt, this.lastReplyAt) + timeout) {
      return new TimeoutError(`Server ${server} did not answer within ${timeout} ms (request_timeout)`, {
        server,
        details: { cause: 'server' },
      });
    }
    const waited = Math.round(now - oldest.sentAt);
    const abandoned = this.queue.abandoned();
    const pile = abandoned > this.queue.maxAbandoned;
    return new TimeoutError(
      pile
        ? `Server ${server} is not keeping up: ${abandoned} requests whose callers gave up are still unanswered on one connection (at most ${this.queue.maxAbandoned} may wait), the oldest written ${waited} ms ago (request_timeout ${timeout} ms)`
        : `Server ${server} answers too slowly: a request written ${waited} ms ago is still unanswered although bytes keep arriving (request_timeout ${timeout} ms)`,
      { server, details: { cause: 'server', slow: true, ...(pile ? { abandoned } : {}) } },
    );
  }
}

/**
 * A loop busy this share of the time since the timer was armed could not read replies
 * promptly: judged as a stall of ours (measured: after 150,000 calls issued in one tick, reading
 * the replies kept the loop ~100 % busy for over a second, with every timer on time).
 */
const LOOP_SATURATED = 0.9;
const SATURATION_WINDOW_MS = 100;

/** Through our own stalls, a server silent for this many `request_timeout`s is judged stuck anyway. */
const STALL_PATIENCE = 3;

/**
 * A written request still unanswered after this many `request_timeout`s, while our loop was
 * responsive, means the server cannot keep up, even if bytes trickle in: its caller's deadline
 * (at most one `request_timeout` after the write) passed long ago, and so did everyone's behind it.
 * Two, not one: a request may legitimately wait behind a deep pipeline for part of a timeout.
 */
export const SLOW_FACTOR = 2;
