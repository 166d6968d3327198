/**
 * `getOrStore` across processes, on memcached's meta flags: one caller loads, the others are
 * served. The rules, by what `mg … N<lease> R<ahead> t` answers:
 *
 * - a miss: memcached creates an empty placeholder and hands one caller `W` (it loads and
 *   stores, the others wait for the value, polling) — a loader that throws, misses its deadline
 *   or gives a value that cannot be stored deletes the placeholder so the next caller loads at
 *   once;
 * - a stale value (after `invalidate`): every caller gets it at once, except the one handed `W`,
 *   which loads and waits for its loader; its write carries the CAS it read (`ms … I C`), so if
 *   the value was invalidated or written again meanwhile it lands stale and the next reader
 *   loads again. A load that fails re-marks the value stale (`md … I C`), which hands `W` to the
 *   next caller;
 * - a current value whose remaining TTL is below `refreshAhead`: every caller gets it at once,
 *   the one handed `W` too, and that one loads in the background. A background load that fails
 *   rewrites the value it had (same CAS, same remaining TTL), which hands `W` to the next
 *   reader, and is reported to `onBackgroundError`.
 *
 * Bounds. A loader's deadline is `lease_timeout` (LoaderTimeoutError; its AbortSignal fires). The
 * lease is sent as `leaseSeconds` = ceil(lease_timeout / 1 s) + 1, and memcached's whole-second
 * clock keeps it at least lease_timeout, so a lease never runs out under a loader within its
 * deadline: one loader at a time per key. A waiter waits at most `leaseSeconds` — by then the
 * lease it first saw is gone even if its holder died — so it never gives up while that holder is
 * within its deadline; still finding a lease then means later callers took it (loads kept
 * failing): ContentionError. Every call thus settles within leaseSeconds + lease_timeout +
 * 3 × request_timeout (a last poll, the load, its write and the lease's release).
 *
 * Pure coordination over a MemcachedClient; encoding, TTL rules and the value's rules are the
 * caller's (`encode` throws for a value that cannot be stored).
 */

import { MS_MAX } from '../client/ClientOptions.js';
import type { Item } from '../client/Item.js';
import type { MemcachedClient } from '../client/MemcachedClient.js';
import { ContentionError, LoaderTimeoutError } from '../component/errors.js';
import type { EncodedValue } from './codec/ValueCodec.js';

export interface LoadRequest<T> {
  readonly fullKey: string;
  /** The caller's key, for errors. */
  readonly key: string;
  /** What errors name as the call, e.g. `getOrStore()` (the default) or `singleFlight()`. */
  readonly operation?: string;
  /** TTL of what the loader produces, wire seconds. */
  readonly ttlSeconds: number;
  /** The lease as sent (wire seconds), and the loader's deadline (`lease_timeout`, ms). */
  readonly leaseSeconds: number;
  readonly leaseTimeoutMs: number;
  /** Refresh a current value whose remaining TTL is below this many seconds; 0: never. */
  readonly refreshAheadSeconds: number;
  /** How long a value re-marked stale after a failed reload stays, seconds. */
  readonly staleSeconds: number;
  /** Its signal aborts at the deadline (lease_timeout); what it resolves after that is dropped. */
  readonly loader: (signal: AbortSignal) => Promise<T> | T;
  /** Throws for a value that cannot be stored (the lease is then released). */
  encode(value: T): EncodedValue;
  decode(item: Item): T | Promise<T>;
  /** A background refresh failed (the value stays; the next reader refreshes). */
  onBackgroundError(error: unknown): void;
  /**
   * A background refresh's write of the key starts or has landed (the near cache must not keep
   * replies from before it). Foreground writes are within the caller's own call.
   */
  onBackgroundWrite(): void;
}

export async function getOrStore<T>(client: MemcachedClient, request: LoadRequest<T>): Promise<T> {
  const { fullKey, leaseSeconds } = request;
  const leaseOptions = request.refreshAheadSeconds > 0 ? { refreshAhead: request.refreshAheadSeconds } : {};
  const waitMs = leaseSeconds * 1000;
  const giveUpAt = Date.now() + waitMs;
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
    const left = giveUpAt - Date.now();
    if (left <= 0) {
      throw new ContentionError(
        `${request.operation ?? 'getOrStore()'} of key '${request.key}' waited ${waitMs} ms, as long as a lease lives, and other callers still held it (each loader may take lease_timeout, ${request.leaseTimeoutMs} ms)`,
        { key: request.key, details: { waitedMs: waitMs } },
      );
    }
    // memcached cannot tell us when the value lands: poll, never past the bound.
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
  }
}

async function loadMissing<T>(client: MemcachedClient, request: LoadRequest<T>): Promise<T> {
  try {
    const value = await load(request);
    const encoded = request.encode(value);
    await client.set(request.fullKey, encoded.data, { ttl: request.ttlSeconds, flags: encoded.flags });
    return value;
  } catch (error) {
    // Free the lease so another caller can try at once instead of after it expires: nobody will
    // store a value under this one.
    await client.delete(request.fullKey).catch(() => {});
    throw error;
  }
}

/** The stale value's winner: loads, then writes with the CAS it read (stale if changed since). */
async function reload<T>(
  client: MemcachedClient,
  request: LoadRequest<T>,
  stale: Item,
  ttl: number,
): Promise<T> {
  try {
    const value = await load(request);
    const encoded = request.encode(value);
    await client.revalidate(request.fullKey, encoded.data, stale.cas, {
      ttl: request.ttlSeconds,
      flags: encoded.flags,
    });
    return value;
  } catch (error) {
    // Stale again, for what was left of it: the next caller is handed the win and retries.
    const left = ttl > 0 ? ttl : request.staleSeconds;
    await client.invalidate(request.fullKey, left, { cas: stale.cas }).catch(() => {});
    throw error;
  }
}

async function refreshInBackground<T>(
  client: MemcachedClient,
  request: LoadRequest<T>,
  current: Item,
  ttl: number,
): Promise<void> {
  try {
    const encoded = request.encode(await load(request));
    request.onBackgroundWrite();
    await client.revalidate(request.fullKey, encoded.data, current.cas, {
      ttl: request.ttlSeconds,
      flags: encoded.flags,
    });
  } catch (error) {
    // Rewrite what was there (only if still that version): a fresh item hands out the win again.
    request.onBackgroundWrite();
    await client
      .cas(request.fullKey, current.value, current.cas, {
        ttl: ttl < 0 ? 0 : Math.max(ttl, 1),
        flags: current.flags,
      })
      .catch(() => {});
    request.onBackgroundError(error);
  } finally {
    request.onBackgroundWrite();
  }
}

/** The loader's value, or LoaderTimeoutError at its deadline (`lease_timeout`), when its signal aborts. */
function load<T>(request: LoadRequest<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const deadline = setTimeout(
      () => {
        const error = new LoaderTimeoutError(
          `${request.operation ?? 'getOrStore()'} loader for key '${request.key}' did not settle within lease_timeout (${request.leaseTimeoutMs} ms), its deadline; its lease is released for another caller`,
          { key: request.key },
        );
        controller.abort(error);
        reject(error);
      },
      // A timer cannot wait longer than MS_MAX (~24.8 days; a longer delay fires at once): a
      // longer lease_timeout is cut there.
      Math.min(request.leaseTimeoutMs, MS_MAX),
    );
    // Through a promise, so a loader that throws synchronously rejects like one that rejects.
    new Promise<T>((loaded) => loaded(request.loader(controller.signal))).then(
      (value) => {
        clearTimeout(deadline);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        reject(error);
      },
    );
  });
}
