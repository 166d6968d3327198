/** memcached reads a TTL above this many seconds as an absolute Unix time. */
export const RELATIVE_TTL_LIMIT_SECONDS = 60 * 60 * 24 * 30;

/**
 * The whole seconds to ask memcached for, so that an item (or a lock) given `ms` milliseconds
 * never ends earlier than asked: `ceil(ms / 1000) + 1`.
 *
 * memcached's clock ticks once a second and an item expires when that clock passes its expiry
 * second, so a relative TTL of N seconds lives anywhere from N−1 to N seconds (measured in 0.1: a
 * 1,500 ms lock, sent as 2 s, was taken by another owner after 1,200 ms). The extra second makes
 * the lower bound hold; the price is that an item may live up to 2 s longer than asked.
 * `ms` must be > 0 (callers map "no TTL" to their own default first).
 */
export function secondsForMs(ms: number): number {
  // 0 would mean "never expires" to memcached: a bug upstream must not turn into that.
  if (!(ms > 0) || !Number.isFinite(ms))
    throw new RangeError(`a TTL in ms must be a finite number > 0, got ${ms}`);
  return Math.ceil(ms / 1000) + 1;
}
