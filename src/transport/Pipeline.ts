import { ConnectionError, type MemcachedCacheError, ProtocolError } from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { collectReply, RequestKind, Step } from '../protocol/ReplyCollector.js';
import type { ResponseHandler } from '../protocol/ResponseParser.js';
import type { TextReply } from '../protocol/TextReply.js';
import { collectTextReply } from '../protocol/TextReplyCollector.js';
import { type Clock, TickClock } from './Clock.js';
import {
  authRefused,
  desyncError,
  noMetaReply,
  outOfStepError,
  pipelineProtocolError,
  refusedConnection,
  replyFailure,
} from './pipelineErrors.js';
import { type AbandonListener, copyFor, failRequest, type Request } from './Request.js';
import { ServerWatch } from './ServerWatch.js';

/** Where the pipeline's bytes go: the socket's write coalescer, or a test's transcript. */
export interface PipelineWriter {
  /** `alone`: nothing else is in flight on the connection (see WriteCoalescer.append). */
  append(payload: string | Buffer, data: Buffer | null, alone: boolean): void;
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
 * Its `ServerWatch` judges the server (stuck, too slow), not the caller. Callers' deadlines are
 * the client's business: a request settled once written stays queued until its reply comes, to
 * keep the stream in step, and at most `maxAbandoned` of them may wait (past that the server is
 * judged sooner); one settled before it was written is dropped, never written
 * (`requestSent: false` is a promise).
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
  private readonly clock: Clock;
  private readonly sendClock: TickClock;
  private readonly watch: ServerWatch;
  /** Written requests in the queue whose callers gave up on them (see `abandon`). */
  private abandonedCount = 0;
  private readonly maxAbandoned: number;
  private readonly readyAfter: RequestKind;

  private closeListener: PipelineCloseListener | null = null;
  private idleListener: (() => void) | null = null;

  constructor(
    readonly serverId: string,
    private readonly writer: PipelineWriter,
    options: PipelineOptions,
  ) {
    this.clock = options.clock;
    // The writer sends at the end of the tick, or at once for a lone request: within the same tick
    // either way, so one clock read per tick is exact enough.
    this.sendClock = new TickClock(options.clock, 64, false);
    this.lastActiveAt = this.clock.now();
    const maxAbandoned = options.maxAbandoned ?? DEFAULT_MAX_ABANDONED;
    this.maxAbandoned = maxAbandoned;
    this.watch = new ServerWatch(serverId, options.clock, options.requestTimeoutMs, {
      oldest: () => this.head,
      abandoned: () => this.abandonedCount,
      maxAbandoned,
      failed: (error) => this.destroy(error, true),
    });
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
    for (let request = this.head; request !== null; request = request.next) {
      if (request.internal) request.sentAt = now;
    }
    this.watch.start(now);
  }

  /** Bytes arrived from the server. */
  received(): void {
    const now = this.sendClock.now();
    this.watch.heard(now);
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
    this.destroy(pipelineProtocolError(this.serverId, 'the server sent a reply nobody asked for'), false);
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
        failRequest(request, replyFailure(this.serverId, request, request.result as MetaResponse));
        return;
      case Step.FailedOutOfStep:
        this.failOutOfStep(request, request.result as MetaResponse);
        return;
      case Step.Desync:
        this.destroy(desyncError(this.serverId, request.kind), false);
        return;
      case Step.Refused: {
        const reply = request.result as MetaResponse;
        if (this.ready) return this.failOutOfStep(request, reply);
        this.destroy(refusedConnection(this.serverId, reply), true);
        return;
      }
      case Step.AuthRefused:
        this.destroy(authRefused(this.serverId), false);
        return;
      case Step.Unsupported:
        this.destroy(noMetaReply(this.serverId, this.serverVersion, request.result as MetaResponse), false);
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
    this.watch.stop();
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
    this.watch.rearm();
  }

  // ---- internals ----

  private write(request: Request): void {
    request.owner = this;
    this.writer.append(request.payload, request.data, this.head === request && this.connected);
    // Written once (a retry encodes anew): the line need not live until the reply; strings kept
    // by 100 requests in flight are what young-generation GCs would otherwise copy.
    request.payload = '';
    if (!this.connected) return; // stamped when the socket connects
    request.sentAt = this.sendClock.now();
    this.watch.written();
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
    failRequest(request, replyFailure(this.serverId, request, reply));
    this.destroy(outOfStepError(this.serverId, reply), false);
  }
}

/**
 * Abandoned requests one connection may hold. A healthy server answers a pile this size in
 * milliseconds; a server that lets it grow past this is not keeping up (measured on 0.2: 2,333
 * after 12 s against a server trickling one byte every 100 ms, still growing).
 */
const DEFAULT_MAX_ABANDONED = 1024;
