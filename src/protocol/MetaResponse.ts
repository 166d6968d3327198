import type { ResponseStatus } from './ResponseStatus.js';

/**
 * One parsed response. Only the meta flags this client asks for are decoded; the rest are
 * ignored. Made by `metaResponse`, whose one object literal gives every response one hidden class
 * (fixed shape, no optional properties).
 */
export interface MetaResponse {
  status: ResponseStatus;
  /** The data block of a `VA` response, `null` otherwise. */
  value: Buffer | null;
  /**
   * Size of a data block that was skipped because it is larger than the reader's limit; -1
   * otherwise. When it is set, `status` is `Value` and `value` is `null`; the flags are decoded.
   */
  oversizeBytes: number;
  /** `O` flag: the opaque token echoed back, -1 when absent. */
  opaque: number;
  /** `c` flag: the CAS unique as decimal text, '' when absent (uint64 does not fit a number). */
  cas: string;
  /** `f` flag: client flags. */
  clientFlags: number;
  /** `t` flag: remaining TTL in seconds, -1 for none, -2 when not returned. */
  ttl: number;
  /** `W`: this client won the right to recache. */
  win: boolean;
  /** `X`: the item is stale. */
  stale: boolean;
  /** `Z`: another client already holds the win token. */
  winSent: boolean;
  /** Rest of the line for VERSION, STAT, ME and the error statuses. */
  text: string;
}

/**
 * A response of `status` with every other field at its default. An object literal, not a class:
 * where the reply parser's optimized code did not inline a class's constructor (its inlining
 * budget spent), each `new` took V8's generic construct path, ~300 instructions per reply
 * (callgrind); a literal is allocated in place even inside a call.
 */
export function metaResponse(status: ResponseStatus): MetaResponse {
  return {
    status,
    value: null,
    oversizeBytes: -1,
    opaque: -1,
    cas: '',
    clientFlags: 0,
    ttl: -2,
    win: false,
    stale: false,
    winSent: false,
    text: '',
  };
}
