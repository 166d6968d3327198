import { InvalidValueError } from '../component/errors.js';

/**
 * The durations a MemcachedCache works with, in ms, as configured (`timeout`, `max_expiration`,
 * `lease_timeout`, `stale_ttl`, `refresh_ahead`), and the rules for the ones a call passes.
 */
export class CacheTimes {
  constructor(
    /** A write's TTL when the call gives none (`timeout`). */
    readonly defaultTtlMs: number,
    /** The longest TTL; longer ones are clamped (`max_expiration`). */
    readonly maxExpirationMs: number,
    readonly leaseTimeoutMs: number,
    readonly staleTtlMs: number,
    readonly refreshAheadMs: number,
  ) {}

  /** TTL in ms from the caller's timeout: ≤ 0/missing → default; clamped to max_expiration. */
  ttlMs(timeout: number | null | undefined, key: string): number {
    if (timeout === null || timeout === undefined) return Math.min(this.defaultTtlMs, this.maxExpirationMs);
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      const got = typeof timeout === 'number' ? 'NaN' : `a ${typeof timeout}`;
      throw new InvalidValueError(`timeout must be a number of milliseconds, got ${got}`, { key });
    }
    const ms = timeout <= 0 ? this.defaultTtlMs : timeout;
    return Math.min(ms, this.maxExpirationMs);
  }

  /** A `getOrStore` call's `refreshAhead` in ms (undefined: the `refresh_ahead` option). */
  refreshAhead(value: number | undefined, key: string): number {
    return perCall(value, this.refreshAheadMs, 'refreshAhead', key);
  }

  /** An `invalidate` call's `staleMs` (undefined: the `stale_ttl` option). */
  stale(value: number | undefined, key: string): number {
    return perCall(value, this.staleTtlMs, 'staleMs', key);
  }
}

/** A per-call duration in ms (undefined: the option's value); must be a finite number ≥ 0. */
function perCall(value: number | undefined, fallback: number, name: string, key: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new InvalidValueError(`${name} must be a number of milliseconds ≥ 0`, { key });
  return value;
}
