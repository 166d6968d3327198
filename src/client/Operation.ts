import { AbortError, type MemcachedCacheError } from '../component/errors.js';
import type { EncodedKey } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { RequestKind } from '../protocol/ReplyCollector.js';
import type { TextReply, TextValue } from '../protocol/TextReply.js';
import type { WireTtl } from '../protocol/WireFields.js';
import type { Clock, TickClock } from '../transport/Clock.js';
import type { Pool } from '../transport/Pool.js';
import {
  type AbandonListener,
  abandon,
  Request,
  type RequestListener,
  reserveOpaques,
} from '../transport/Request.js';
import { describeServer } from '../transport/tracing.js';
import { type BatchCall, BatchParts } from './BatchParts.js';
import type { Command } from './Command.js';
import { callTimeoutError } from './callTimeout.js';
import type { DeadlineQueue, Expirable } from './DeadlineQueue.js';
import { type CommandTraceContext, outcomeOf } from './diagnostics.js';
import { backoffMs, isTransportFailure, MAX_MOVES, wasNeverSent } from './Retry.js';
import { closedError, noPoolError, notFailingOver } from './routeErrors.js';

/** What an operation needs from the client that runs it. */
export interface OperationHost {
  readonly requestTimeoutMs: number;
  readonly retries: number;
  readonly closed: boolean;
  readonly clock: Clock;
  /** The clock shared by calls made close together (the deadline's start). */
  readonly callClock: TickClock;
  readonly deadlines: DeadlineQueue;
  /** Where the command goes now (a change to a key of an ejected server is recorded against it). */
  route(command: Command<unknown>): string;
  /** The TTL cap when the last `route` of a change went to a substitute server, else null. */
  ttlCap(): WireTtl | null;
  /** Where the command goes by the full server list, alive or not (`failover: false`). */
  home(command: Command<unknown>): string;
  /** Where one key of a batch goes now (`home`: by the full list). */
  /** Keys by the server each goes to now (by the full list with `home`). */
  groupByServer(keys: readonly EncodedKey[], home: boolean): Map<string, readonly EncodedKey[]>;
  /** Whether server `id` is ejected (out of the ring). */
  isOut(id: string): boolean;
  /** The pool of a server in the list; undefined for one that left it. */
  poolFor(id: string): Pool | undefined;
  /** The call is over: its weight no longer counts toward `max_pending`. */
  release(weight: number): void;
}

/**
 * One client call from start to outcome: routes it, sends it, and on a transport failure
 * retries it (on the key's server of the moment) within the caller's deadline. It is the
 * request's listener itself, so a call costs one promise — the caller's — and no async frames.
 *
 * The deadline is the call's start + `request_timeout`, kept by the client's DeadlineQueue; a
 * retry keeps it. Writes that may not be repeated are retried only when they certainly never
 * reached a server. Failures are not reported to server health from here: a caller's timeout or
 * a failed request says nothing a connection-level event has not said already.
 */
export class Operation<T> implements Request, RequestListener, Expirable, BatchCall<T> {
  // The fields of a Request, declared here rather than inherited: V8 (Node 20) does not inline
  // a `super()` call into the caller's optimized code, and the generic construct path it took
  // instead cost ~330 instructions per call (callgrind). `implements Request` keeps the two in
  // step; their meaning is documented on Request.
  next: Request | null = null;
  sentAt = 0;
  settled = false;
  owner: AbandonListener | null = null;
  internal = false;
  collected: Request['collected'] = null;
  result: unknown = null;
  listener: RequestListener = this;
  key: string | undefined = undefined;
  keys: readonly string[] | null = null;
  kind: RequestKind;
  payload: string | Buffer = '';
  data: Buffer | null;
  hasData: boolean;
  opaque = -1;
  count = 0;

  dueAt: number;
  prevDue: Expirable | null = null;
  nextDue: Expirable | null = null;
  private attempt = 0;
  /** Times it was routed again because its server left the membership (see MAX_MOVES). */
  private moves = 0;
  private serverId = '';
  private current: Request | null = null;
  finished = false;
  private onAbort: (() => void) | null = null;
  /** An earlier attempt may have reached its server: `requestSent: false` can no longer be said. */
  private sentBefore = false;
  /**
   * `failover: false`: the call goes to its key's server by the full list, and fails at once when
   * that server is ejected instead of going to a substitute.
   */
  pinned = false;
  /** A batch sent again after a failure, split by server (see BatchParts). */
  private parts: BatchParts<T> | null = null;

  constructor(
    readonly host: OperationHost,
    readonly command: Command<T>,
    private readonly weight: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: Error) => void,
    /** The tracing context when `memcached-cache:command` has subscribers, else null. */
    private readonly trace: CommandTraceContext | null = null,
  ) {
    this.kind = command.kind;
    this.data = command.data;
    this.hasData = command.data !== null;
    this.dueAt = host.callClock.now() + host.requestTimeoutMs;
  }

  start(): void {
    const signal = this.signal;
    if (signal) {
      if (signal.aborted) {
        // Aborted before it was sent: it must not be sent at all.
        this.fail(
          new AbortError('The operation was aborted', {
            key: this.command.key?.key,
            details: { requestSent: false },
          }),
        );
        return;
      }
      this.onAbort = () => this.abort();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.host.deadlines.add(this);
    this.dispatch();
  }

  onReply(request: Request, reply: unknown): void {
    if (this.finished) return;
    if (this.parts !== null) {
      this.parts.onReply(request, reply);
      return;
    }
    let value: T;
    try {
      value = this.command.decode(reply);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.finish();
    if (this.trace !== null) this.traceResult(this.trace, reply);
    this.resolve(value);
  }

  onFailure(request: Request, error: Error): void {
    if (this.finished) return;
    if (this.parts !== null) {
      this.parts.onFailure(request, error);
      return;
    }
    const keys = this.command.keys;
    if ((error as MemcachedCacheError).details?.moved === true && this.moves < MAX_MOVES) {
      // Its server left the membership before the request was written: route it again now, to
      // the key's new owner (each key of a batch to its own), without spending a retry.
      this.moves++;
      this.current = null;
      if (keys !== null) this.resend(keys, this.attempt, this.moves);
      else this.dispatch();
      return;
    }
    if (!isTransportFailure(error) || this.host.closed) {
      this.fail(error);
      return;
    }
    if (!wasNeverSent(error as MemcachedCacheError)) this.sentBefore = true;
    const wait = backoffMs(this.attempt + 1);
    const retry =
      this.attempt < this.host.retries &&
      (this.command.idempotent || wasNeverSent(error as MemcachedCacheError)) &&
      this.host.clock.now() + wait < this.dueAt;
    if (!retry) {
      this.fail(error);
      return;
    }
    this.attempt++;
    this.current = null;
    // A batch is re-split: its keys may now belong to several servers (the failed one ejected).
    if (keys !== null) setTimeout(() => this.resend(keys, this.attempt, this.moves), wait);
    else setTimeout(() => this.dispatch(), wait);
  }

  /**
   * The caller's deadline passed (called by the DeadlineQueue): the error says where the time
   * went (see `callTimeoutError`).
   */
  expire(): void {
    if (this.finished) return;
    const request = this.current;
    // The reply may still come: the connection drops it. Not written yet: it never will be.
    if (request !== null) abandon(request);
    this.fail(
      callTimeoutError(this.host, {
        server: this.serverId || undefined,
        key: this.command.key?.key,
        dueAt: this.dueAt,
        sentAt: request === null ? 0 : request.sentAt,
        retried: this.attempt > 0,
        sentBefore: this.sentBefore,
        partWritten: this.parts?.written() === true,
      }),
    );
  }

  private dispatch(): void {
    if (this.finished) return;
    if (this.host.closed) {
      this.fail(closedError(this.command.key?.key));
      return;
    }
    const command = this.command;
    const pinned = this.pinned;
    const id = pinned ? this.host.home(command) : this.host.route(command);
    this.serverId = id;
    // Asked right after the route it belongs to; a pinned call never goes to a substitute.
    const ttlCap = command.mutates && !pinned ? this.host.ttlCap() : null;
    if (pinned && id !== '' && this.host.isOut(id)) {
      this.fail(notFailingOver(id, command.key?.key));
      return;
    }
    const keys = command.keys;
    const count = keys === null ? 0 : keys.length;
    const opaque = command.kind === RequestKind.Meta || count > 0 ? reserveOpaques(count || 1) : -1;
    // The first attempt is this object; a retry or a move gets a fresh request, since the one
    // that failed may still be referenced by the connection that failed it.
    const request: Request =
      this.attempt === 0 && this.moves === 0 ? this : new Request(command.kind, '', command.data, -1, 0);
    request.payload = command.encode(opaque, ttlCap);
    request.opaque = opaque;
    request.count = count;
    request.key = command.key?.key;
    request.listener = this;
    if (keys !== null) {
      request.collected = new Array(count);
      request.keys = keys.map((k) => k.key);
    } else if (command.kind === RequestKind.Stats) request.collected = new Map();
    this.current = request;
    const pool = this.host.poolFor(id);
    if (this.trace !== null && pool !== undefined) describeServer(this.trace, pool.endpoint);
    if (pool === undefined) {
      this.fail(noPoolError(id));
      return;
    }
    pool.dispatch(request);
  }

  /**
   * Sends a batch's `keys` again, split by the server each key maps to now (its home for a pinned
   * call); `attempt` and `moves` carry on from the request that failed.
   */
  private resend(keys: readonly EncodedKey[], attempt: number, moves: number): void {
    if (this.parts === null) this.parts = new BatchParts(this);
    this.parts.send(keys, attempt, moves);
  }

  partDispatched(request: Request, id: string): void {
    this.current = request;
    this.serverId = id;
  }

  partMayHaveBeenSent(): void {
    this.sentBefore = true;
  }

  private abort(): void {
    if (this.finished) return;
    const request = this.current;
    // Not written yet: it never will be, so the caller may be told so.
    if (request !== null) abandon(request);
    const neverSent =
      !this.sentBefore && this.parts?.written() !== true && (request === null || request.sentAt === 0);
    this.fail(
      new AbortError('The operation was aborted', {
        server: this.serverId || undefined,
        key: this.command.key?.key,
        ...(neverSent ? { details: { requestSent: false } } : {}),
      }),
    );
  }

  fail(error: Error): void {
    this.finish();
    this.reject(error);
  }

  succeed(value: T): void {
    this.finish();
    this.resolve(value);
  }

  private finish(): void {
    this.finished = true;
    // The parts of a re-split batch still in flight: their replies, when they come, are dropped;
    // one not written yet never will be.
    if (this.parts !== null) this.parts.abandonAll();
    this.host.deadlines.remove(this);
    this.host.release(this.weight);
    if (this.onAbort !== null) this.signal!.removeEventListener('abort', this.onAbort);
  }

  /** What the reply says, for the tracing context: outcome and hit (hits for a batch). */
  private traceResult(trace: CommandTraceContext, reply: unknown): void {
    const command = this.command;
    if (command.keys !== null) {
      let hits = 0;
      for (const response of reply as Array<MetaResponse | undefined>) if (response?.value != null) hits++;
      trace.hits = hits;
    } else if (command.key !== null) {
      const outcome = outcomeOf(command.name, reply as MetaResponse | TextReply | TextValue | null);
      trace.outcome = outcome;
      if (READS.has(command.name)) trace.hit = outcome === 'hit';
    }
  }
}

const READS = new Set(['get', 'gat', 'getOrLease']);
