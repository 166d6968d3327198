import { AbortError, type MemcachedCacheError, withoutStack } from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { type ReplyTarget, RequestKind } from '../protocol/ReplyCollector.js';
import type { TextValue } from '../protocol/TextReply.js';

export { RequestKind };

export type RequestResult =
  | MetaResponse
  | Array<MetaResponse | undefined>
  | Map<string, string>
  | string
  | null;

let opaqueCounter = 0;
/** Opaques stay within 9 digits so they parse as small integers. */
export const OPAQUE_LIMIT = 1_000_000_000;

/**
 * Reserves `count` consecutive opaque tokens and returns the first. Process-wide, so a
 * request can be encoded before its connection is chosen; a range never wraps in the middle.
 */
export function reserveOpaques(count: number): number {
  if (opaqueCounter + count >= OPAQUE_LIMIT) opaqueCounter = 0;
  const first = opaqueCounter + 1;
  opaqueCounter += count;
  return first;
}

/**
 * One request in a connection's queue. A plain object with a `next` link: the queue is a
 * linked list so that enqueue and dequeue cost O(1) and allocate nothing extra. The client's
 * Operation has the same fields (`implements Request`, not `extends`: see there) and is its own
 * first attempt's request (one object per call, not two); what it sends is therefore set when it
 * is routed, not fixed at construction.
 */
export class Request implements ReplyTarget {
  next: Request | null = null;
  /** Clock time it was handed to the socket; 0 while it is held back or queued. */
  sentAt = 0;
  /**
   * Set once the caller's promise is settled (reply, timeout or abort); a late reply is dropped,
   * and a request settled before it was written is never written (see `abandon`).
   */
  settled = false;
  /** The queue it was written to, told when its caller gives up on it (see `abandon`). */
  owner: AbandonListener | null = null;
  /** Handshake requests: sent before the connection is ready. */
  internal = false;
  collected: Array<MetaResponse | undefined> | Array<TextValue | undefined> | Map<string, string> | null =
    null;
  result: unknown = null;
  /** Who hears the outcome: a promise's resolve/reject, or the client's operation. */
  listener: RequestListener = IGNORED;
  /** Key for errors, when the request has one. */
  key: string | undefined;
  /** Batch: the key of each opaque offset, to name the one that failed. */
  keys: readonly string[] | null = null;
  hasData: boolean;

  constructor(
    public kind: RequestKind,
    /** The request line(s); for `ms` the header only. */
    public payload: string | Buffer,
    /** `ms` data block, written after `payload` and followed by CRLF. */
    public data: Buffer | null,
    /** First opaque token (-1 for commands without one). */
    public opaque: number,
    /** Number of opaque tokens (Batch). */
    public count: number,
  ) {
    this.hasData = data !== null;
  }
}

/** Receives the outcome of a request. Called at most once (the queue checks `settled`). */
export interface RequestListener {
  onReply(request: Request, result: any): void;
  onFailure(request: Request, error: Error): void;
}

const IGNORED: RequestListener = { onReply() {}, onFailure() {} };

/** The queue a request was written to: counts the requests whose callers gave up on them. */
export interface AbandonListener {
  abandoned(request: Request): void;
}

/**
 * The caller stopped waiting (its deadline passed, or it aborted). A request not yet written is
 * then never written — `requestSent: false` is a promise; one already written stays in its queue
 * (its reply keeps the stream in step), and the queue counts it, to bound that pile.
 */
export function abandon(request: Request): void {
  if (request.settled) return;
  request.settled = true;
  if (request.sentAt > 0) request.owner?.abandoned(request);
}

/** Fails `request` unless its caller was already settled (a reply, a timeout, an abort). */
export function failRequest(request: Request, error: Error): void {
  if (request.settled) return;
  request.settled = true;
  request.listener.onFailure(request, error);
}

class PromiseListener implements RequestListener {
  constructor(
    private readonly resolve: (value: any) => void,
    private readonly reject: (error: Error) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly onAbort: (() => void) | undefined,
  ) {}

  onReply(_request: Request, result: unknown): void {
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    this.resolve(result);
  }

  onFailure(_request: Request, error: Error): void {
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    this.reject(error);
  }
}

/**
 * Dispatches `request` and returns a promise of its outcome. An already-aborted `signal` means
 * nothing is sent (an aborted set or flush_all must not happen); a later abort settles the
 * promise at once, while the reply is still consumed when it comes, to keep the stream in step.
 */
export function sendRequest<T>(
  request: Request,
  signal: AbortSignal | undefined,
  serverId: string,
  dispatch: (request: Request) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(request, serverId, false));
      return;
    }
    let onAbort: (() => void) | undefined;
    if (signal) {
      onAbort = () => {
        if (request.settled) return;
        abandon(request);
        reject(abortError(request, serverId, request.sentAt > 0));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
    request.listener = new PromiseListener(resolve, reject, signal, onAbort);
    dispatch(request);
  });
}

function abortError(request: Request, serverId: string, sent: boolean): AbortError {
  return new AbortError('The operation was aborted', {
    server: serverId,
    key: request.key,
    ...(sent ? {} : { details: { requestSent: false } }),
  });
}

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
