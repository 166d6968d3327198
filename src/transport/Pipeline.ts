import {
  AuthenticationError,
  ConnectionError,
  type MemcachedCacheError,
  ProtocolError,
  ServerError,
  TimeoutError,
  UnsupportedServerError,
  ValueTooLargeError,
  withoutStack,
} from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { collectReply, errorWord, RequestKind, Step } from '../protocol/ReplyCollector.js';
import type { ResponseHandler } from '../protocol/ResponseParser.js';
import type { TextReply } from '../protocol/TextReply.js';
import { collectTextReply } from '../protocol/TextReplyCollector.js';
import { type Clock, stallMs, TickClock } from './Clock.js';
import { type AbandonListener, failRequest, type Request } from './Request.js';

/** Where the pipeline's bytes go: the socket's write coalescer, or a test's transcript. */
export interface PipelineWriter {
  append(payload: string | Buffer, data: Buffer | null): void;
}

export interface PipelineOptions {
  /** Longest a written request may wait for the server to make progress (`request_timeout`). */
  requestTimeoutMs: number;
  clock: Clock;
  /**
   * Most written requests whose callers gave up (timed out, aborted) that may still wait for their
   * replies on this pipeline; past it the connection is replaced rather than growing forever.
   */
  maxAbandoned?: number;
  /**
   * The handshake request whose reply makes the connection ready: `mn` for the meta protocol (it
   * proves the server speaks it), `version` for the text protocol.
   */
  readyAfter?: RequestKind;
}

/**
 * Told once, when the pipeline is destroyed. `evidence` says whether the cause is evidence about
 * the server (refused, reset, closed on us, stopped answering) rather than our own decision or a
 * protocol mismatch. `unsent` are the user requests that never reached the server: the owner may
 * hand them to another connection, or must reject them.
 */
export type PipelineCloseListener = (
  error: MemcachedCacheError,
  evidence: boolean,
  unsent: Request[],
) => void;

/**
 * The request queue of one connection, with no socket in it: requests in, bytes out through the
 * writer, parsed replies in, outcomes out. Replies arrive in request order; each is matched to
 * the head of the queue (by opaque for meta commands) and collected by its kind. A reply that does
 * not match means the stream lost its framing: the pipeline is destroyed and every request
 * rejected, so a value is never handed to the wrong key.
 *
 * User requests are held back until the handshake proved the peer speaks meta (an old memcached
 * would run an `ms` data block as a command).
 *
 * It judges the server, not the caller, after the event loop read the sockets and never across a
 * stall of our own loop: the server is stuck when a written request has waited `request_timeout`
 * with no byte at all arriving meanwhile, and too slow when the oldest written request is still
 * unanswered `SLOW_FACTOR` × `request_timeout` after it was written although bytes keep coming (a
 * trickle would otherwise reset the silence forever, and every caller times out). Callers'
 * deadlines are the client's business: a request settled once written stays queued until its
 * reply comes, to keep the stream in step, and at most `maxAbandoned` of them may wait; one
 * settled before it was written is dropped, never written (`requestSent: false` is a promise).
 */
export class Pipeline implements ResponseHandler, AbandonListener {
  /** The server's version, recorded by the handshake. */
  serverVersion = '';
  /** Clock time of the last received byte (or of creation), for idle sweeping. */
  lastActiveAt: number;
  private head: Request | null = null;
  private tail: Request | null = null;
  private pendingCount = 0;
  private held: Request[] = [];
  private connected = false;
  private ready = false;
  private closed = false;
  /** Clock time the server last sent anything: replies streaming in mean it is working. */
  private lastReplyAt = 0;
  /** Clock time the server's silence is measured from after a stall of our loop (see judge). */
  private stallEndedAt = 0;
  private timer: unknown = null;
  private timerDueAt = 0;
  private readonly clock: Clock;
  private readonly sendClock: TickClock;
  private readonly judgeAfterIO: () => void;
  /** The judging timer fired late: our loop was blocked (see `stallMs`). */
  private stallSeen = false;
  /** How busy our loop had been when the judging timer was armed (see `Clock.loopMark`). */
  private armedLoop: unknown = null;
  private armedAt = 0;
  /** Written requests in the queue whose callers gave up on them (see `abandon`). */
  private abandonedCount = 0;
  private readonly maxAbandoned: number;
  private readonly readyAfter: RequestKind;

  private closeListener: PipelineCloseListener | null = null;
  private idleListener: (() => void) | null = null;

  constructor(
    readonly serverId: string,
    private readonly writer: PipelineWriter,
    private readonly options: PipelineOptions,
  ) {
    this.clock = options.clock;
    // The writer sends at the end of the tick anyway: one clock read per tick is exact enough.
    this.sendClock = new TickClock(options.clock, 64, false);
    this.lastActiveAt = this.clock.now();
    this.judgeAfterIO = () => this.judge();
    this.maxAbandoned = options.maxAbandoned ?? DEFAULT_MAX_ABANDONED;
    this.readyAfter = options.readyAfter ?? RequestKind.Noop;
  }

  /** Requests in the queue, answered or not by the caller's clock (settled ones stay until their reply). */
  get inflight(): number {
    return this.pendingCount;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isReady(): boolean {
    return this.ready;
  }

  onClose(listener: PipelineCloseListener): void {
    this.closeListener = listener;
  }

  /** Called whenever the queue becomes empty. */
  onIdle(listener: () => void): void {
    this.idleListener = listener;
  }

  /** Written requests whose callers gave up, still waiting for their replies. */
  get abandonedWaiting(): number {
    return this.abandonedCount;
  }

  /** Queues a request: written now if it is part of the handshake or the handshake is done. */
  enqueue(request: Request): void {
    // Its caller gave up before it reached us (e.g. moved back from a failed connection): it
    // must never be written.
    if (request.settled) return;
    if (this.closed) {
      failRequest(
        request,
        new ConnectionError(`Connection to ${this.serverId} is closed`, {
          server: this.serverId,
          key: request.key,
          details: { requestSent: false },
        }),
      );
      return;
    }
    this.pendingCount++;
    // Held apart from the queue until the handshake is done: a handshake step sent later (`mn`
    // after `version`) must come before them on the wire and in the queue.
    if (!this.ready && !request.internal) {
      this.held.push(request);
      return;
    }
    if (this.tail === null) this.head = this.tail = request;
    else {
      this.tail.next = request;
      this.tail = request;
    }
    this.write(request);
  }

  /** The socket is connected: what was written so far is on its way, and the server's clock starts. */
  markConnected(): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    const now = this.clock.now();
    this.lastReplyAt = now;
    for (let request = this.head; request !== null; request = request.next) {
      if (request.internal) request.sentAt = now;
    }
    this.arm();
  }

  /** Bytes arrived from the server. */
  received(): void {
    const now = this.sendClock.now();
    this.lastReplyAt = now;
    this.lastActiveAt = now;
  }

  /** A meta-protocol reply (see ResponseParser). */
  onResponse(response: MetaResponse): void {
    const request = this.head;
    if (request === null) this.unasked();
    else this.advance(request, collectReply(request, response));
  }

  /** A classic text-protocol reply (see TextResponseParser), for `protocol: 'text'`. */
  onReply(reply: TextReply): void {
    const request = this.head;
    if (request === null) this.unasked();
    else this.advance(request, collectTextReply(request, reply));
  }

  private unasked(): void {
    this.destroy(this.protocolError('the server sent a reply nobody asked for'), false);
  }

  /** What the head request's collector made of a reply: completion, an error or a replaced connection. */
  private advance(request: Request, step: Step): void {
    switch (step) {
      case Step.More:
        return;
      case Step.Done:
        this.dequeue();
        if (request.internal) this.handshakeStep(request);
        if (!request.settled) {
          request.settled = true;
          request.listener.onReply(request, request.result);
        }
        return;
      case Step.Failed:
        this.dequeue();
        failRequest(request, this.failureOf(request, request.result as MetaResponse));
        return;
      case Step.FailedOutOfStep:
        this.failOutOfStep(request, request.result as MetaResponse);
        return;
      case Step.Desync:
        this.destroy(this.protocolError(DESYNC_REASON[request.kind] ?? UNEXPECTED_REPLY), false);
        return;
      case Step.Refused: {
        const reply = request.result as MetaResponse;
        if (this.ready) return this.failOutOfStep(request, reply);
        const reason = reply.text || errorWord(reply.status);
        this.destroy(
          new ServerError(`Server ${this.serverId} refused the connection: ${reason}`, {
            server: this.serverId,
            details: { reply: errorWord(reply.status), refused: true },
          }),
          true,
        );
        return;
      }
      case Step.AuthRefused:
        this.destroy(
          new AuthenticationError(`Server ${this.serverId} refused the credentials`, {
            server: this.serverId,
          }),
          false,
        );
        return;
      case Step.Unsupported: {
        const reply = request.result as MetaResponse;
        const answer = reply.text ? `${errorWord(reply.status)} ${reply.text}` : errorWord(reply.status);
        this.destroy(
          noMetaProtocol(this.serverId, this.serverVersion, `answered \`mn\` with ${JSON.stringify(answer)}`),
          false,
        );
        return;
      }
    }
  }

  onError(error: ProtocolError): void {
    this.destroy(
      new ProtocolError(`${error.message} (server ${this.serverId})`, {
        server: this.serverId,
        cause: error,
      }),
      false,
    );
  }

  /**
   * Rejects every written request with `error` (each naming its own key), hands the unsent ones
   * to the close listener, stops the timer. Idempotent.
   */
  destroy(error: MemcachedCacheError, evidence: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    let request = this.head;
    this.head = this.tail = null;
    this.pendingCount = 0;
    this.abandonedCount = 0;
    const unsent: Request[] = [];
    for (const waiting of this.held) if (!waiting.settled) unsent.push(waiting);
    while (request !== null) {
      const next = request.next;
      request.next = null;
      if (!request.settled) {
        if (!this.ready && !request.internal) unsent.push(request);
        else if (request.key === undefined) failRequest(request, error);
        else failRequest(request, copyFor(error, request.key, false));
      }
      request = next;
    }
    this.held = [];
    const listener = this.closeListener;
    this.closeListener = null;
    if (listener !== null) listener(error, evidence, unsent);
    else for (const waiting of unsent) failRequest(waiting, copyFor(error, waiting.key, true));
  }

  /**
   * The caller of a written request gave up on it (called through `abandon`). Past
   * `maxAbandoned` such requests, the connection is judged sooner: once its oldest request has
   * waited one `request_timeout` (not `SLOW_FACTOR` of them) while our loop was responsive, it is
   * replaced. A pile that the server is still answering within `request_timeout` (our own burst:
   * the callers' deadlines passed while our loop could not read) drains by itself and is left alone.
   */
  abandoned(_request: Request): void {
    if (this.closed || ++this.abandonedCount !== this.maxAbandoned + 1) return;
    // The due time just moved earlier: arm again (a judge already waiting re-arms by itself).
    if (this.timer !== null) {
      this.clock.clearTimer(this.timer);
      this.timer = null;
      this.arm();
    }
  }

  // ---- internals ----

  private write(request: Request): void {
    request.owner = this;
    this.writer.append(request.payload, request.data);
    // Written once (a retry encodes anew): the line need not live until the reply; strings kept
    // by 100 requests in flight are what young-generation GCs would otherwise copy.
    request.payload = '';
    if (!this.connected) return; // stamped when the socket connects
    request.sentAt = this.sendClock.now();
    if (this.timer === null) this.arm();
  }

  private handshakeStep(request: Request): void {
    // Recorded when it arrives: an UnsupportedServerError for the `mn` that follows names it, and
    // the connection's close handler reads it to tell a proxy's hang-up from a failure.
    if (request.kind === RequestKind.Version) this.serverVersion = request.result as string;
    if (request.kind !== this.readyAfter) return;
    this.ready = true;
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    // Requests whose callers gave up while they were held (a timeout, an abort during a slow
    // handshake) are dropped and never written: their callers were told `requestSent: false`.
    for (const waiting of held) {
      if (waiting.settled) {
        this.pendingCount--;
        continue;
      }
      if (this.tail === null) this.head = waiting;
      else this.tail.next = waiting;
      this.tail = waiting;
      this.write(waiting);
    }
    if (this.pendingCount === 0) this.idleListener?.();
  }

  private dequeue(): void {
    const request = this.head!;
    this.head = request.next;
    request.next = null;
    this.pendingCount--;
    // Settled while still queued means abandoned: replies settle a request after dequeuing it.
    if (request.settled) this.abandonedCount--;
    if (this.head === null) {
      this.tail = null;
      // Not idle while requests are held for the handshake.
      if (this.pendingCount === 0) this.idleListener?.();
    }
  }

  /** An error line after which the stream may carry a second reply for the same request. */
  private failOutOfStep(request: Request, reply: MetaResponse): void {
    this.dequeue();
    failRequest(request, this.failureOf(request, reply));
    this.destroy(
      this.protocolError(
        `the server answered ${errorWord(reply.status)}; the connection is replaced to stay in step`,
      ),
      false,
    );
  }

  /** The error for a request that failed alone: an error line, or a value too large to read. */
  private failureOf(request: Request, reply: MetaResponse): MemcachedCacheError {
    if (reply.oversizeBytes >= 0) {
      const key =
        request.keys !== null ? (request.keys[reply.opaque - request.opaque] ?? request.key) : request.key;
      return new ValueTooLargeError(
        `The value stored under the key is ${reply.oversizeBytes} bytes, larger than this client reads (max_value); it was skipped`,
        { server: this.serverId, key, details: { size: reply.oversizeBytes } },
      );
    }
    const word = errorWord(reply.status);
    return new ServerError(`Server ${this.serverId} answered ${word}${reply.text ? `: ${reply.text}` : ''}`, {
      server: this.serverId,
      key: request.key,
      details: { reply: word },
    });
  }

  /**
   * When the head, if written, becomes overdue: `request_timeout` after it was sent or the server
   * last sent anything (silent), or `SLOW_FACTOR` × `request_timeout` after it was sent however
   * many bytes trickled in (too slow). Neither is measured across a stall of our own loop.
   */
  private dueAt(): number {
    const head = this.head;
    if (head === null || head.sentAt === 0) return Number.POSITIVE_INFINITY;
    const since = Math.max(head.sentAt, this.stallEndedAt);
    const timeout = this.options.requestTimeoutMs;
    const slowAfter = this.abandonedCount > this.maxAbandoned ? timeout : SLOW_FACTOR * timeout;
    return Math.min(Math.max(since, this.lastReplyAt) + timeout, since + slowAfter);
  }

  private arm(): void {
    if (this.timer !== null || this.closed || !this.connected) return;
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
    if (this.closed || this.timer !== null) return;
    const now = this.clock.now();
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
      const head = this.head;
      const timeout = this.options.requestTimeoutMs;
      const silentFor = head === null ? 0 : now - Math.max(head.sentAt, this.lastReplyAt);
      const waitedFor = head === null ? 0 : now - head.sentAt;
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
    const timeout = this.options.requestTimeoutMs;
    const head = this.head!;
    const silent = now >= Math.max(head.sentAt, this.stallEndedAt, this.lastReplyAt) + timeout;
    const waited = Math.round(now - head.sentAt);
    const pile = this.abandonedCount > this.maxAbandoned;
    this.destroy(
      silent
        ? new TimeoutError(`Server ${this.serverId} did not answer within ${timeout} ms (request_timeout)`, {
            server: this.serverId,
            details: { cause: 'server' },
          })
        : new TimeoutError(
            pile
              ? `Server ${this.serverId} is not keeping up: ${this.abandonedCount} requests whose callers gave up are still unanswered on one connection (at most ${this.maxAbandoned} may wait), the oldest written ${waited} ms ago (request_timeout ${timeout} ms)`
              : `Server ${this.serverId} answers too slowly: a request written ${waited} ms ago is still unanswered although bytes keep arriving (request_timeout ${timeout} ms)`,
            {
              server: this.serverId,
              details: { cause: 'server', slow: true, ...(pile ? { abandoned: this.abandonedCount } : {}) },
            },
          ),
      true,
    );
  }

  private protocolError(reason: string): ProtocolError {
    return new ProtocolError(`Protocol error with ${this.serverId}: ${reason}`, { server: this.serverId });
  }
}

/** Why a reply that did not fit its request broke the stream, by the request's kind. */
const DESYNC_REASON: Partial<Record<RequestKind, string>> = {
  [RequestKind.Batch]: 'a batched reply did not match any request in the batch',
  [RequestKind.Meta]: 'a reply carried the wrong opaque token (response desync)',
  [RequestKind.TextGet]: 'a get reply did not fit the keys asked (response desync)',
};
const UNEXPECTED_REPLY = 'an unexpected reply was received (response desync)';

/**
 * The server answered `version` but not the meta protocol: an old memcached, or — far more
 * likely today — a proxy (twemproxy closes the connection on any meta command, mcrouter answers
 * `mn` with an error). Not evidence against the server: it is reachable and well; the client is
 * configured for the wrong protocol.
 */
export function noMetaProtocol(serverId: string, version: string, what: string): UnsupportedServerError {
  return new UnsupportedServerError(
    `Server ${serverId} (version ${version || 'unknown'}) answered \`version\` but ${what}: it does not speak the meta protocol. memcached 1.6 or newer does; a proxy such as twemproxy or mcrouter does not — behind a proxy set protocol: 'text' (component option options.protocol=text)`,
    { server: serverId, details: { protocol: 'meta', version } },
  );
}

/**
 * A loop busy this share of the time since the judging timer was armed could not read replies
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

/**
 * Abandoned requests one connection may hold. A healthy server answers a pile this size in
 * milliseconds; a server that lets it grow past this is not keeping up (measured on 0.2: 2,333
 * after 12 s against a server trickling one byte every 100 ms, still growing).
 */
const DEFAULT_MAX_ABANDONED = 1024;

/** The same error for one request: naming its key, and whether it was never sent. */
export function copyFor(
  error: MemcachedCacheError,
  key: string | undefined,
  neverSent: boolean,
): MemcachedCacheError {
  const Class = error.constructor as new (message: string, options: object) => MemcachedCacheError;
  const details = neverSent ? { ...error.details, requestSent: false } : error.details;
  return withoutStack(
    () =>
      new Class(error.message, { server: error.server, key: key ?? error.key, cause: error.cause, details }),
  );
}
