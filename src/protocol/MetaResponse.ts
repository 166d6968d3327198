import type { ResponseStatus } from './ResponseStatus.js';

/**
 * One parsed response. Only the meta flags this client asks for are decoded; the rest are
 * ignored. Fields keep a fixed shape (no optional properties) so V8 keeps one hidden class.
 */
export class MetaResponse {
  status: ResponseStatus;
  /** The data block of a `VA` response, `null` otherwise. */
  value: Buffer | null = null;
  /**
   * Size of a data block that was skipped because it is larger than the reader's limit; -1
   * otherwise. When it is set, `status` is `Value` and `value` is `null`; the flags are decoded.
   */
  oversizeBytes = -1;
  /** `O` flag: the opaque token echoed back, -1 when absent. */
  opaque = -1;
  /** `c` flag: the CAS unique as decimal text, '' when absent (uint64 does not fit a number). */
  cas = '';
  /** `f` flag: client flags. */
  clientFlags = 0;
  /** `t` flag: remaining TTL in seconds, -1 for none, -2 when not returned. */
  ttl = -2;
  /** `W`: this client won the right to recache. */
  win = false;
  /** `X`: the item is stale. */
  stale = false;
  /** `Z`: another client already holds the win token. */
  winSent = false;
  /** Rest of the line for VERSION, STAT, ME and the error statuses. */
  text = '';

  constructor(status: ResponseStatus) {
    this.status = status;
  }
}
