import { InvalidValueError } from '../component/errors.js';
import { RELATIVE_TTL_LIMIT_SECONDS } from './TtlEncoder.js';

/**
 * The typed parts a request line is built from. Each type can only be made by its check below
 * (the brand is not constructible elsewhere), and the encoder (RequestEncoder) accepts nothing
 * else: a value a caller passed reaches the wire as digits or a checked token, never as text
 * that could end the line and start a second command.
 *
 * Every check names the argument (and the key) and throws InvalidValueError, before anything is
 * sent. The ranges are what memcached 1.6 reads the way the caller meant it; an argument it would
 * silently read as something else ("already expired", a date in 1970, a wipe now) is refused.
 */

declare const wire: unique symbol;
/** Client flags: 0 … 2^32 − 1. */
export type WireFlags = number & { readonly [wire]: 'flags' };
/** A TTL as memcached reads it: relative seconds up to 30 days, else an absolute Unix time. */
export type WireTtl = number & { readonly [wire]: 'ttl' };
/** A CAS unique: 1 to 20 decimal digits, at most 2^64 − 1. */
export type WireCas = string & { readonly [wire]: 'cas' };
/** An unsigned 64-bit number (counter deltas and initial values). */
export type WireUint64 = bigint & { readonly [wire]: 'uint64' };
/** A `stats` group: lower-case words. */
export type WireStatsGroup = string & { readonly [wire]: 'stats' };

const UINT32_MAX = 0xffff_ffff;
const UINT64_LIMIT = 2n ** 64n;
/**
 * memcached parses a TTL into a signed 32-bit number: past this the command is refused (and a
 * refused `ms` desynchronises the connection), so an absolute time must stay below it.
 */
const INT32_MAX = 2_147_483_647;
const CAS_TEXT = /^\d{1,20}$/;
/**
 * The `stats` groups memcached 1.6 answers with statistics. Others are refused here: an unknown
 * one answers a bare `ERROR`, and `reset`/`detail on` would change the server, not read it.
 */
const STATS_GROUPS: ReadonlySet<string> = new Set([
  'settings',
  'items',
  'slabs',
  'sizes',
  'conns',
  'extstore',
]);

/** Who an argument belongs to, for the error: its name and, when there is one, the key. */
function invalid(argument: string, key: string | undefined, must: string, value: unknown): InvalidValueError {
  return new InvalidValueError(`${argument} must be ${must}, got ${describe(value)}`, {
    ...(key === undefined ? {} : { key }),
    details: { argument, requestSent: false },
  });
}

/** A short, value-free description of what was passed (a wrong argument may be a secret). */
function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string')
    return value.length <= 24 && /^[\w .:-]*$/.test(value) ? `'${value}'` : 'a string';
  return value === null ? 'null' : typeof value;
}

export function wireFlags(value: unknown, argument: string, key?: string): WireFlags {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX)
    throw invalid(argument, key, 'a 32-bit unsigned integer', value);
  return value as WireFlags;
}

/**
 * Seconds → the TTL on the wire. 0 means "never expires"; above 30 days memcached reads the
 * number as an absolute Unix time, so the client converts rather than letting the server
 * misread it as a date in 1970 (which would expire the item at once). `nowMs` for tests.
 */
export function wireTtl(seconds: unknown, argument: string, key?: string, nowMs?: number): WireTtl {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
    throw invalid(argument, key, 'a whole number of seconds ≥ 0', seconds);
  if (seconds <= RELATIVE_TTL_LIMIT_SECONDS) return seconds as WireTtl;
  // The clock is read only here: most TTLs are relative, and this runs on every write.
  const now = Math.floor((nowMs ?? Date.now()) / 1000);
  if (now + seconds > INT32_MAX)
    throw invalid(
      argument,
      key,
      `at most ${INT32_MAX - now} seconds (memcached's clock ends in 2038)`,
      seconds,
    );
  return (now + seconds) as WireTtl;
}

/**
 * The TTL of a copy written to a substitute server while the key's home is out: at most `cap`.
 * `ttl` 0 (never expires) and an absolute time (beyond 30 days; `cap` is at most 30 days) are
 * both longer than any cap. Null `cap`: the TTL as asked.
 */
export function cappedTtl(ttl: WireTtl, cap: WireTtl | null): WireTtl {
  return cap === null || (ttl !== 0 && ttl <= cap) ? ttl : cap;
}

export function wireCas(value: unknown, argument: string, key?: string): WireCas {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= UINT64_LIMIT)
      throw invalid(argument, key, 'a CAS unique (unsigned 64-bit)', value);
    return value.toString() as WireCas;
  }
  if (typeof value !== 'string' || !CAS_TEXT.test(value) || BigInt(value) >= UINT64_LIMIT)
    throw invalid(argument, key, 'the decimal CAS unique a read returned', value);
  return value as WireCas;
}

export function wireUint64(value: unknown, argument: string, key?: string): WireUint64 {
  if (typeof value === 'bigint') {
    if (value >= 0n && value < UINT64_LIMIT) return value as WireUint64;
  } else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value) as WireUint64;
  }
  throw invalid(argument, key, 'a whole number from 0 to 2^64 − 1 (a bigint above 2^53)', value);
}

export function wireStatsGroup(value: unknown, argument: string): WireStatsGroup {
  if (typeof value !== 'string' || !STATS_GROUPS.has(value))
    throw invalid(argument, undefined, `one of the stats groups ${[...STATS_GROUPS].join(', ')}`, value);
  return value as WireStatsGroup;
}
