import { AbortError } from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';

/** What shape of reply a request waits for. */
export const RequestKind = {
  /** One meta command (mg/ms/md/ma/me), one reply carrying our opaque. */
  Meta: 0,
  /** Quiet `mg`s ended by `mn`: replies for hits only, then `MN`. */
  Batch: 1,
  /** `stats`: STAT lines until END. */
  Stats: 2,
  /** `version`: VERSION. */
  Version: 3,
  /** `flush_all`: OK. */
  Flush: 4,
  /** ASCII auth `set`: STORED. Part of the handshake. */
  Auth: 5,
  /** `mn` on its own: MN. Part of the handshake (proves meta support). */
  Noop: 6,
} as const;
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind];

export type RequestResult =
  | MetaResponse
  | Array<MetaResponse | undefined>
  | Map<string, string>
  | string
  | null;

let opaqueCounter = 0;
/** Opaques stay within 9 digits so they parse as small integers. */
const OPAQUE_LIMIT = 1_000_000_000;

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
 * linked list so that enqueue and dequeue cost O(1) and allocate nothing extra.
 */
export class Request {
  next: Request | null = null;
  /** Wall-clock ms after which the caller gets a TimeoutError. */
  deadline = 0;
  /**
   * Wall-clock ms after which this request, unanswered at the head of the queue, means the server
   * is stuck: sent + the connection's `requestTimeoutMs` (never earlier than `deadline`). A
   * shorter per-request deadline only times out that request.
   */
  stuckAt = 0;
  /** Set once the caller's promise is settled (reply, timeout or abort); a late reply is dropped. */
  settled = false;
  /** Handshake requests are timed by the connect timeout, not the request timeout. */
  internal = false;
  /** Replies collected so far (Batch: by opaque offset; Stats: name → value). */
  collected: Array<MetaResponse | undefined> | Map<string, string> | null = null;
  /** Who hears the outcome: a promise's resolve/reject, or the client's retrying operation. */
  listener: RequestListener = IGNORED;
  /** Per-request reply timeout in ms; 0 uses the connection's `requestTimeoutMs`. */
  timeoutMs = 0;
  /** Key for errors, when the request has one. */
  key: string | undefined;

  constructor(
    readonly kind: RequestKind,
    /** The request line(s); for `ms` the header only. */
    readonly payload: string | Buffer,
    /** `ms` data block, written after `payload` and followed by CRLF. */
    readonly data: Buffer | null,
    /** First opaque token (-1 for commands without one). */
    readonly opaque: number,
    /** Number of opaque tokens (Batch). */
    readonly count: number,
  ) {}
}

/** Hands the outcome to the listener. Called once per request (guarded by `settled`). */
export function resolveRequest(request: Request, result: unknown): void {
  request.listener.onReply(request, result);
}

export function rejectRequest(request: Request, error: Error): void {
  request.listener.onFailure(request, error);
}

/** Receives the outcome of a request. */
export interface RequestListener {
  onReply(request: Request, result: any): void;
  onFailure(request: Request, error: Error): void;
}

const IGNORED: RequestListener = { onReply() {}, onFailure() {} };

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
        request.settled = true;
        reject(abortError(request, serverId, true));
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
