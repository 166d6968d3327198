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
import { type Clock, stallMs, TickClock } from './Clock.js';
import { failRequest, type Request } from './Request.js';

/** Where the pipeline's bytes go: the socket's write coalescer, or a test's transcript. */
export interface PipelineWriter {
  append(payload: string | Buffer, data: Buffer | null): void;
}

export interface PipelineOptions {
  /** Longest a written request may wait for the server to make progress (`request_timeout`). */
  requestTimeoutMs: number;
  clock: Clock;
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
 * It judges the server, not the caller: the server is stuck only when a written request has
 * waited `request_timeout` with no reply at all arriving meanwhile, judged after the event loop
 * read the sockets, and never across a stall of our own loop. Callers' deadlines are the client's
 * business (a settled request stays queued until its reply comes, to keep the stream in step).
 */
export class Pipeline implements ResponseHandler {
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

  private closeListener: PipelineCloseListener | null = null;
  private idleListener: (() => void) | null = null;

  constructor(
    readonly serverId: string,
    private readonly writer: PipelineWriter,
    private readonly options: PipelineOptions,
  ) {
    this.clock = options.clock;
    // The writer sends at the end of the tick anyway: one clock read per tick is exact enough.
    this.sendClock = new TickClock(options.clock);
    this.lastActiveAt = this.clock.now();
    this.judgeAfterIO = () => this.judge();
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

  /** Queues a request: written now if it is part of the handshake or the handshake is done. */
  enqueue(request: Request): void {
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
    if (this.tail === null) this.head = this.tail = request;
    else {
      this.tail.next = request;
      this.tail = request;
    }
    this.pendingCount++;
    if (this.ready || request.internal) this.write(request);
    else this.held.push(request);
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

  onResponse(response: MetaResponse): void {
    const request = this.head;
    if (request === null) {
      this.destroy(this.protocolError('the server sent a reply nobody asked for'), false);
      return;
    }
    switch (collectReply(request, response)) {
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
        this.destroy(
          this.protocolError(
            request.kind === RequestKind.Batch
              ? 'a batched reply did not match any request in the batch'
              : request.kind === RequestKind.Meta
                ? 'a reply carried the wrong opaque token (response desync)'
                : 'an unexpected reply was received (response desync)',
          ),
          false,
        );
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
      case Step.Unsupported:
        this.destroy(
          new UnsupportedServerError(
            `Server ${this.serverId} (version ${this.serverVersion || 'unknown'}) does not support the meta protocol; memcached 1.6 or newer is required`,
            { server: this.serverId },
          ),
          false,
        );
        return;
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
    const unsent: Request[] = [];
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

  // ---- internals ----

  private write(request: Request): void {
    this.writer.append(request.payload, request.data);
    // Written once (a retry encodes anew): the line need not live until the reply; strings kept
    // by 100 requests in flight are what young-generation GCs would otherwise copy.
    request.payload = '';
    if (!this.connected) return; // stamped when the socket connects
    request.sentAt = this.sendClock.now();
    if (this.timer === null) this.arm();
  }

  private handshakeStep(request: Request): void {
    // Recorded now, synchronously: the `mn` reply may follow in this same chunk, and an
    // UnsupportedServerError must name the version found.
    if (request.kind === RequestKind.Version) this.serverVersion = request.result as string;
    if (request.kind !== RequestKind.Noop) return;
    this.ready = true;
    const held = this.held;
    this.held = [];
    // Settled ones too: they are linked in the queue, and their replies keep it in step.
    for (const waiting of held) this.write(waiting);
  }

  private dequeue(): void {
    const request = this.head!;
    this.head = request.next;
    request.next = null;
    this.pendingCount--;
    if (this.head === null) {
      this.tail = null;
      this.idleListener?.();
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

  /** When the head, if written, becomes overdue: `request_timeout` after it was sent or the server last sent anything. */
  private dueAt(): number {
    const head = this.head;
    if (head === null || head.sentAt === 0) return Number.POSITIVE_INFINITY;
    return Math.max(head.sentAt, this.lastReplyAt, this.stallEndedAt) + this.options.requestTimeoutMs;
  }

  private arm(): void {
    if (this.timer !== null || this.closed || !this.connected) return;
    const due = this.dueAt();
    if (due === Number.POSITIVE_INFINITY) return;
    this.timerDueAt = due;
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
    if (this.stallSeen) {
      this.stallSeen = false;
      // Our own loop was blocked: the server's silence is not measured across our stall (a write
      // may have sat in our process meanwhile). But a server silent for STALL_PATIENCE timeouts of
      // real time, through however many of our stalls, is stuck: a starved process must still
      // notice a dead server.
      const head = this.head;
      const silentFor = head === null ? 0 : now - Math.max(head.sentAt, this.lastReplyAt);
      if (silentFor < STALL_PATIENCE * this.options.requestTimeoutMs) {
        this.stallEndedAt = now;
        this.arm();
        return;
      }
    }
    if (now < this.dueAt()) {
      this.arm();
      return;
    }
    this.destroy(
      new TimeoutError(
        `Server ${this.serverId} did not answer within ${this.options.requestTimeoutMs} ms (request_timeout)`,
        { server: this.serverId },
      ),
      true,
    );
  }

  private protocolError(reason: string): ProtocolError {
    return new ProtocolError(`Protocol error with ${this.serverId}: ${reason}`, { server: this.serverId });
  }
}

/** Through our own stalls, a server silent for this many `request_timeout`s is judged stuck anyway. */
const STALL_PATIENCE = 3;

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
