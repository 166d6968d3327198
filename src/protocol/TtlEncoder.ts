/** memcached reads a TTL above this many seconds as an absolute Unix time. */
export const RELATIVE_TTL_LIMIT_SECONDS = 60 * 60 * 24 * 30;

/**
 * Converts a TTL in seconds to what goes on the wire: 0 means "never expires"; above 30 days
 * memcached needs an absolute Unix time, so the client converts rather than letting the server
 * misread it as a date in 1970 (which would expire the item at once).
 */
export function wireTtl(seconds: number, nowMs: number = Date.now()): number {
  if (seconds <= RELATIVE_TTL_LIMIT_SECONDS) return seconds;
  return Math.floor(nowMs / 1000) + seconds;
}
