/**
 * `getOrStore` across processes, on memcached's meta flags: one caller loads, the others are
 * served. The rules, by what `mg … N<lease> R<ahead> t` answers:
 *
 * - a miss: memcached creates an empty placeholder and hands one caller `W` (it loads and
 *   stores, the others wait for the value, polling) — a loader that throws deletes the
 *   placeholder so the next caller loads at once;
 * - a stale value (after `invalidate`): every caller gets it at once, except the one handed `W`,
 *   which loads and waits for its loader; its write carries the CAS it read (`ms … I C`), so if
 *   the value was invalidated or written again meanwhile it lands stale and the next reader
 *   loads again. A loader that throws re-marks the value stale (`md … I C`), which hands `W` to
 *   the next caller;
 * - a current value whose remaining TTL is below `refreshAhead`: every caller gets it at once,
 *   the one handed `W` too, and that one loads in the background. A background loader that
 *   throws rewrites the value it had (same CAS, same remaining TTL), which hands `W` to the next
 *   reader, and is reported to `onBackgroundError`.
 *
 * Pure coordination over a MemcachedClient; encoding, TTL rules and errors are the caller's.
 */
import type { Item } from '../client/Item.js';
import type { MemcachedClient } from '../client/MemcachedClient.js';
import { TimeoutError } from '../component/errors.js';

export interface LoadRequest<T> {
  readonly fullKey: string;
  /** The caller's key, for errors. */
  readonly key: string;
  /** TTL of what the loader produces, wire seconds. */
  readonly ttlSeconds: number;
  /** How long one caller may load before another may, seconds and ms. */
  readonly leaseSeconds: number;
  readonly leaseTimeoutMs: number;
  /** Refresh a current value whose remaining TTL is below this many seconds; 0: never. */
  readonly refreshAheadSeconds: number;
  /** How long a value re-marked stale after a failed reload stays, seconds. */
  readonly staleSeconds: number;
  readonly loader: () => Promise<T> | T;
  encode(value: T): { data: Buffer; flags: number };
  decode(item: Item): T;
  /** A background refresh failed (the value stays; the next reader refreshes). */
  onBackgroundError(error: unknown): void;
}

export async function getOrStore<T>(client: MemcachedClient, request: LoadRequest<T>): Promise<T> {
  const { fullKey, leaseSeconds, leaseTimeoutMs } = request;
  const leaseOptions = request.refreshAheadSeconds > 0 ? { refreshAhead: request.refreshAheadSeconds } : {};
  const giveUpAt = Date.now() + 2 * leaseTimeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    const lease = await client.getOrLease(fullKey, leaseSeconds, leaseOptions);
    const item = lease.item;
    if (lease.win && item !== null && !lease.stale) {
      void refreshInBackground(client, request, item, lease.ttl ?? 0);
      return request.decode(item);
    }
    if (lease.win && item !== null) return reload(client, request, item, lease.ttl ?? 0);
    if (lease.win) return loadMissing(client, request);
    if (item !== null) return request.decode(item);
    if (Date.now() > giveUpAt) {
      throw new TimeoutError(`getOrStore() waited ${2 * leaseTimeoutMs} ms for another caller's value`, {
        key: request.key,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

async function loadMissing<T>(client: MemcachedClient, request: LoadRequest<T>): Promise<T> {
  let value: T;
  try {
    value = await request.loader();
  } catch (error) {
    // Free the lease so another caller can try at once instead of after lease_timeout.
    await client.delete(request.fullKey).catch(() => {});
    throw error;
  }
  const encoded = request.encode(value);
  await client.set(request.fullKey, encoded.data, { ttl: request.ttlSeconds, flags: encoded.flags });
  return value;
}

/** The stale value's winner: loads, then writes with the CAS it read (stale if changed since). */
async function reload<T>(
  client: MemcachedClient,
  request: LoadRequest<T>,
  stale: Item,
  ttl: number,
): Promise<T> {
  let value: T;
  try {
    value = await request.loader();
  } catch (error) {
    // Stale again, for what was left of it: the next caller is handed the win and retries.
    const left = ttl > 0 ? ttl : request.staleSeconds;
    await client.invalidate(request.fullKey, left, { cas: stale.cas }).catch(() => {});
    throw error;
  }
  const encoded = request.encode(value);
  await client.revalidate(request.fullKey, encoded.data, stale.cas, {
    ttl: request.ttlSeconds,
    flags: encoded.flags,
  });
  return value;
}

async function refreshInBackground<T>(
  client: MemcachedClient,
  request: LoadRequest<T>,
  current: Item,
  ttl: number,
): Promise<void> {
  try {
    const encoded = request.encode(await request.loader());
    await client.revalidate(request.fullKey, encoded.data, current.cas, {
      ttl: request.ttlSeconds,
      flags: encoded.flags,
    });
  } catch (error) {
    // Rewrite what was there (only if still that version): a fresh item hands out the win again.
    await client
      .cas(request.fullKey, current.value, current.cas, {
        ttl: ttl < 0 ? 0 : Math.max(ttl, 1),
        flags: current.flags,
      })
      .catch(() => {});
    request.onBackgroundError(error);
  }
}
