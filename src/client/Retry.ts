import { ConnectionError, type MemcachedCacheError, TimeoutError } from '../component/errors.js';

/** Transport failures say nothing about the data; they count against server health and may be retried. */
export function isTransportFailure(error: unknown): error is MemcachedCacheError {
  return error instanceof ConnectionError || error instanceof TimeoutError;
}

/**
 * Whether the request certainly never reached the server (no connection, handshake failed):
 * only then can a non-idempotent write be retried without risk of applying it twice.
 */
export function wasNeverSent(error: MemcachedCacheError): boolean {
  return error.details?.requestSent === false;
}

/** 10, 20, 40 … ms between attempts. */
export function backoffMs(attempt: number): number {
  return Math.min(200, 10 * 2 ** (attempt - 1));
}

/** A request moves at most this often: memberships change seconds apart, not within one call. */
export const MAX_MOVES = 4;
