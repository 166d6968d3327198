import type { MemcachedCacheError } from '../component/errors.js';
import type { EncodedKey } from '../protocol/KeyEncoder.js';
import { abandon, Request, type RequestListener, reserveOpaques } from '../transport/Request.js';
import type { Command } from './Command.js';
import type { OperationHost } from './Operation.js';
import { backoffMs, isTransportFailure, MAX_MOVES, wasNeverSent } from './Retry.js';
import { closedError, noPoolError, notFailingOver } from './routeErrors.js';

/** What the parts of a re-split batch need from the call they belong to. */
export interface BatchCall<T> extends RequestListener {
  readonly host: OperationHost;
  readonly command: Command<T>;
  /** `failover: false`: each key goes to its server by the full list. */
  readonly pinned: boolean;
  readonly dueAt: number;
  readonly finished: boolean;
  /** A part was handed to server `id`'s pool: it is what a deadline or an abort now concerns. */
  partDispatched(request: Request, id: string): void;
  /** A part failed after it may have reached its server: `requestSent: false` is over. */
  partMayHaveBeenSent(): void;
  fail(error: Error): void;
  succeed(value: T): void;
}

/** One server's share of a batch sent again after a failure. */
class PartRequest extends Request {
  constructor(
    readonly part: Command<any>,
    readonly attempt: number,
    readonly moves: number,
  ) {
    super(part.kind, '', part.data, -1, 0);
  }
}

/**
 * A batch (getMany's share for one server) sent again after its request failed: its keys may now
 * belong to several servers (the failed one ejected), so they are split by the server each maps
 * to now, one request per server, each answered into the same result. A part that fails is split
 * again on its own, with its own retry count, within the call's deadline.
 */
export class BatchParts<T> {
  /** Parts in flight. */
  private readonly parts = new Set<PartRequest>();
  /** Parts not yet answered, counting those waiting for their retry. */
  private pending = 0;
  private value: T | undefined;

  constructor(private readonly call: BatchCall<T>) {}

  /** Sends `keys`, split by server; `attempt` and `moves` carry on from the request that failed. */
  send(keys: readonly EncodedKey[], attempt: number, moves: number): void {
    const call = this.call;
    if (call.finished) return;
    const host = call.host;
    if (host.closed) {
      call.fail(closedError(call.command.key?.key));
      return;
    }
    for (const [id, group] of host.groupByServer(keys, call.pinned)) {
      if (call.pinned && id !== '' && host.isOut(id)) {
        call.fail(notFailingOver(id, call.command.key?.key));
        return;
      }
      const pool = host.poolFor(id);
      if (pool === undefined) {
        call.fail(noPoolError(id));
        return;
      }
      const part = call.command.part!(group);
      const request = new PartRequest(part, attempt, moves);
      const opaque = reserveOpaques(group.length);
      request.payload = part.encode(opaque, null);
      request.opaque = opaque;
      request.count = group.length;
      request.key = group[0]!.key;
      request.keys = group.map((k) => k.key);
      request.collected = new Array(group.length);
      request.listener = call;
      this.parts.add(request);
      this.pending++;
      call.partDispatched(request, id);
      pool.dispatch(request);
      if (call.finished) return; // the dispatch failed it at once
    }
  }

  onReply(request: Request, reply: unknown): void {
    const part = request as PartRequest;
    this.parts.delete(part);
    try {
      this.value = part.part.decode(reply);
    } catch (error) {
      this.call.fail(error as Error);
      return;
    }
    if (--this.pending > 0) return;
    this.call.succeed(this.value as T);
  }

  /** A part failed: split its keys again (moved, or a retry), or fail the call. */
  onFailure(request: Request, error: Error): void {
    const part = request as PartRequest;
    const call = this.call;
    this.parts.delete(part);
    if (!wasNeverSent(error as MemcachedCacheError)) call.partMayHaveBeenSent();
    const keys = part.part.keys!;
    if ((error as MemcachedCacheError).details?.moved === true && part.moves < MAX_MOVES) {
      this.send(keys, part.attempt, part.moves + 1);
      this.pending--;
      return;
    }
    if (!isTransportFailure(error) || call.host.closed) {
      call.fail(error);
      return;
    }
    const wait = backoffMs(part.attempt + 1);
    if (
      part.attempt >= call.host.retries ||
      !(call.command.idempotent || wasNeverSent(error as MemcachedCacheError)) ||
      call.host.clock.now() + wait >= call.dueAt
    ) {
      call.fail(error);
      return;
    }
    setTimeout(() => {
      // Counted as pending until its keys are sent again, so the call cannot finish meanwhile.
      this.send(keys, part.attempt + 1, part.moves);
      this.pending--;
    }, wait);
  }

  /** Whether a part still in flight was written (then `requestSent: false` is untrue). */
  written(): boolean {
    for (const part of this.parts) if (part.sentAt > 0) return true;
    return false;
  }

  /** The call is over: replies still to come are dropped; a part not written yet never will be. */
  abandonAll(): void {
    for (const part of this.parts) abandon(part);
  }
}
