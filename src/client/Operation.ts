import type { ClusterRouter } from '../cluster/ClusterRouter.js';
import {
  AbortError,
  InvalidStateError,
  type MemcachedCacheError,
  TimeoutError,
} from '../component/errors.js';
import type { EncodedKey } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import type { Pool } from '../transport/Pool.js';
import { Request, RequestKind, type RequestListener, reserveOpaques } from '../transport/Request.js';
import { type CommandName, commandChannel, outcomeOf, publishCommand } from './diagnostics.js';
import { backoffMs, isTransportFailure, wasNeverSent } from './Retry.js';

/** What an operation needs from the client that runs it. */
export interface OperationHost {
  readonly router: ClusterRouter;
  readonly requestTimeoutMs: number;
  readonly retries: number;
  /** More than one server: successes must be reported to the health tracker. */
  readonly multiServer: boolean;
  readonly closed: boolean;
  route(encoded: EncodedKey): string;
  poolFor(id: string): Pool;
}

/**
 * One client call from start to outcome: routes it, sends it, and on a transport failure
 * retries it (on the key's server of the moment) within the request timeout. It is the
 * request's listener itself, so a call costs one promise — the caller's — and no async frames.
 *
 * Writes that may not be repeated are retried only when they certainly never reached a server.
 */
export class Operation<T> implements RequestListener {
  private attempt = 0;
  private readonly started = Date.now();
  /** performance.now() at start when someone listens on the diagnostics channel, else -1. */
  private readonly tracedAt = commandChannel.hasSubscribers ? performance.now() : -1;
  private serverId = '';
  private current: Request | null = null;
  private finished = false;
  private onAbort: (() => void) | null = null;

  constructor(
    private readonly host: OperationHost,
    private readonly command: CommandName,
    private readonly encoded: EncodedKey,
    /** Builds the request line(s) for the given first opaque token. */
    private readonly build: (opaque: number) => string,
    private readonly data: Buffer | null,
    private readonly idempotent: boolean,
    /** Number of quiet requests in a batch (getMany); 0 for a single request. */
    private readonly batch: number,
    private readonly batchKeys: readonly EncodedKey[] | undefined,
    /** Turns the raw reply into the caller's result. */
    private readonly transform: (reply: any) => T,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    const signal = this.signal;
    if (signal) {
      if (signal.aborted) {
        // Aborted before it was sent: it must not be sent at all.
        this.fail(
          new AbortError('The operation was aborted', {
            key: this.encoded.key,
            details: { requestSent: false },
          }),
        );
        return;
      }
      this.onAbort = () => this.abort();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.dispatch();
  }

  onReply(_request: Request, reply: unknown): void {
    if (this.finished) return;
    if (this.host.multiServer) this.host.router.reportSuccess(this.serverId);
    let value: T;
    try {
      value = this.transform(reply);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.finish();
    if (this.tracedAt >= 0) this.traceResult(reply);
    this.resolve(value);
  }

  onFailure(request: Request, error: Error): void {
    if (this.finished) return;
    if (!isTransportFailure(error) || this.host.closed) {
      this.fail(error);
      return;
    }
    const budget = this.host.requestTimeoutMs;
    // A retry that timed out on what was left of the call's budget (maybe a few ms) says
    // nothing about that server; counting it could eject a healthy one.
    const budgetRanOut = error instanceof TimeoutError && request.timeoutMs > 0 && request.timeoutMs < budget;
    if (!budgetRanOut) this.host.router.reportFailure(this.serverId);
    const wait = backoffMs(this.attempt + 1);
    const retry =
      this.attempt < this.host.retries &&
      (this.idempotent || wasNeverSent(error as MemcachedCacheError)) &&
      Date.now() - this.started + wait < budget;
    if (!retry) {
      this.fail(error);
      return;
    }
    this.attempt++;
    setTimeout(() => this.dispatch(), wait);
  }

  private dispatch(): void {
    if (this.finished) return;
    if (this.host.closed) {
      this.fail(new InvalidStateError('The memcached client was closed', { key: this.encoded.key }));
      return;
    }
    const id = this.host.route(this.encoded);
    this.serverId = id;
    const batch = this.batch;
    const opaque = reserveOpaques(batch || 1);
    const request = new Request(
      batch ? RequestKind.Batch : RequestKind.Meta,
      this.build(opaque),
      this.data,
      opaque,
      batch,
    );
    request.key = this.encoded.key;
    request.listener = this;
    if (batch) request.collected = new Array(batch);
    if (this.attempt > 0)
      request.timeoutMs = Math.max(1, this.host.requestTimeoutMs - (Date.now() - this.started));
    this.current = request;
    this.host.poolFor(id).dispatch(request);
  }

  private abort(): void {
    if (this.finished) return;
    // The reply may still come; marking the request settled makes the connection drop it.
    if (this.current !== null) this.current.settled = true;
    this.fail(
      new AbortError('The operation was aborted', {
        server: this.serverId || undefined,
        key: this.encoded.key,
      }),
    );
  }

  private fail(error: Error): void {
    this.finish();
    if (this.tracedAt >= 0 && commandChannel.hasSubscribers) {
      for (const k of this.batchKeys ?? [this.encoded])
        publishCommand(this.command, k.key, this.serverId, this.tracedAt, 'error', error);
    }
    this.reject(error);
  }

  private finish(): void {
    this.finished = true;
    if (this.onAbort !== null) this.signal!.removeEventListener('abort', this.onAbort);
  }

  private traceResult(reply: unknown): void {
    if (!commandChannel.hasSubscribers) return;
    const { command, serverId, tracedAt } = this;
    if (this.batchKeys === undefined) {
      publishCommand(
        command,
        this.encoded.key,
        serverId,
        tracedAt,
        outcomeOf(command, reply as MetaResponse),
      );
      return;
    }
    const replies = reply as Array<MetaResponse | undefined>;
    for (let i = 0; i < this.batchKeys.length; i++) {
      publishCommand(command, this.batchKeys[i]!.key, serverId, tracedAt, outcomeOf(command, replies[i]));
    }
  }
}
