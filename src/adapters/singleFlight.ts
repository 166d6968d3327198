/**
 * `cache.wrap` with one load across every process: cache-manager's `wrap()` coalesces concurrent
 * calls in one process only (2 processes × 25 callers on a cold key ran the loader twice), so
 * this runs `MemcachedCache.getOrStore`'s lease protocol (LoadCoordinator) on the key the Keyv
 * store writes: memcached hands one caller of all processes the lease (`mg … N`), it loads and
 * writes the value as `keyv.set` would (Keyv's serializer, `{ value, expires }`, the store's
 * namespace and generation), and the others poll until it lands. A later `cache.get(key)` reads
 * it like any value cache-manager wrote. Callers in one process share one flight.
 */
import { getOrStore } from '../cache/LoadCoordinator.js';
import { InvalidValueError } from '../component/errors.js';
import { COMPONENT_OPTIONS } from '../connector/ComponentOptions.js';
import { secondsForMs } from '../protocol/TtlEncoder.js';
import { KeyvMemcachedStore } from './KeyvMemcachedStore.js';
import { decode, encode } from './keyvValues.js';

export interface SingleFlightOptions {
  /** ms, as `cache.wrap`'s `ttl`; default the Keyv's own `ttl`, else no expiry. */
  ttl?: number;
  /**
   * The loader's deadline, ms (the `lease_timeout` of `getOrStore`, default 10,000): past it its
   * signal aborts, the caller rejects with LoaderTimeoutError and the lease goes to another caller.
   */
  leaseTimeoutMs?: number;
}

/** What is read of a Keyv instance (structurally, so `keyv` stays a dependency of the caller). */
interface KeyvLike {
  readonly store: unknown;
  readonly namespace?: string | undefined;
  readonly useKeyPrefix?: boolean;
  readonly ttl?: number | undefined;
  readonly serialize?: ((data: StoredData) => string | Promise<string>) | undefined;
  readonly deserialize?: ((data: string) => unknown) | undefined;
  readonly opts?: { compression?: unknown };
}

interface StoredData {
  value: unknown;
  expires: number | undefined;
}

/** A cache-manager `Cache` (its `stores`) or a Keyv instance. */
export type SingleFlightTarget = { readonly stores: readonly unknown[] } | { readonly store: unknown };

const LEASE_TIMEOUT = COMPONENT_OPTIONS.lease_timeout;
/** In-process flights by storage key, per Keyv: one lease poller per process, not one per caller. */
const flightsByKeyv = new WeakMap<KeyvLike, Map<string, Promise<unknown>>>();

/**
 * Returns the value cached under `key`, or runs `loader` once across every process sharing the
 * memcached servers and caches its result. Rejects when memcached cannot be reached (unlike
 * `cache.wrap`, which then loads in every process). Every call settles within
 * ⌈leaseTimeoutMs / 1 s⌉ + 1 s + leaseTimeoutMs + 3 × request timeout (ContentionError when
 * other callers' loads kept the lease that long; `lease_timeout` in its messages is `leaseTimeoutMs`).
 * `loader` resolving `undefined` is refused (InvalidValueError): resolve `null` to cache "none".
 */
export async function singleFlight<T>(
  cache: SingleFlightTarget,
  key: string,
  loader: (signal: AbortSignal) => T | Promise<T>,
  options: SingleFlightOptions = {},
): Promise<T> {
  const keyv = memcachedKeyv(cache);
  const store = keyv.store as KeyvMemcachedStore;
  const leaseTimeoutMs = options.leaseTimeoutMs ?? LEASE_TIMEOUT.default;
  if (
    !Number.isInteger(leaseTimeoutMs) ||
    leaseTimeoutMs < LEASE_TIMEOUT.min ||
    leaseTimeoutMs > LEASE_TIMEOUT.max
  )
    throw new RangeError(
      `leaseTimeoutMs must be an integer from ${LEASE_TIMEOUT.min} to ${LEASE_TIMEOUT.max}, got ${String(leaseTimeoutMs)}`,
    );
  const ttlMs = options.ttl ?? keyv.ttl;
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs >= 0))
    throw new RangeError(`ttl must be a number of ms ≥ 0, got ${String(ttlMs)}`);
  const storageKey = await store.storageKey(keyvKey(keyv, key));

  const flights = flightsByKeyv.get(keyv) ?? new Map<string, Promise<unknown>>();
  flightsByKeyv.set(keyv, flights);
  const running = flights.get(storageKey);
  if (running !== undefined) return running as Promise<T>;

  const flight = getOrStore<Loaded<T>>(store.client, {
    fullKey: storageKey,
    key,
    operation: 'singleFlight()',
    ttlSeconds: ttlMs !== undefined && ttlMs > 0 ? secondsForMs(ttlMs) : 0,
    leaseSeconds: secondsForMs(leaseTimeoutMs),
    leaseTimeoutMs,
    refreshAheadSeconds: 0,
    staleSeconds: secondsForMs(leaseTimeoutMs),
    // Serialized inside the loader's deadline: Keyv's serializer may be async, `encode` is not.
    loader: async (signal) => {
      const value = await loader(signal);
      if (value === undefined)
        throw new InvalidValueError(
          `singleFlight() loader for key '${key}' resolved undefined; resolve null to cache "no value"`,
          { key },
        );
      const expires = ttlMs !== undefined && ttlMs > 0 ? Date.now() + ttlMs : undefined;
      const data: StoredData = { value, expires };
      const [bytes, flags] = encode(keyv.serialize === undefined ? data : await keyv.serialize(data));
      return { value, data: typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, flags };
    },
    encode: (loaded) => ({ data: loaded.data, flags: loaded.flags }),
    // As Keyv's get reads it: the store's bytes, then Keyv's deserializer for strings.
    decode: async (item) => {
      const raw = decode(item.value, item.flags);
      const data = (
        typeof raw === 'string' && keyv.deserialize !== undefined ? await keyv.deserialize(raw) : raw
      ) as StoredData | undefined;
      return { value: data?.value as T, data: item.value, flags: item.flags };
    },
    onBackgroundError: () => {},
    onBackgroundWrite: () => {},
  })
    .then((loaded) => loaded.value)
    .finally(() => flights.delete(storageKey));
  flights.set(storageKey, flight);
  return flight;
}

interface Loaded<T> {
  value: T;
  data: Buffer;
  flags: number;
}

/** The Keyv over a KeyvMemcachedStore: the target itself, or the one among a cache's stores. */
function memcachedKeyv(cache: SingleFlightTarget): KeyvLike {
  const candidates = 'stores' in cache ? cache.stores : [cache];
  const keyv = candidates.find(
    (candidate): candidate is KeyvLike =>
      typeof candidate === 'object' &&
      candidate !== null &&
      (candidate as KeyvLike).store instanceof KeyvMemcachedStore,
  );
  if (keyv === undefined)
    throw new TypeError(
      'singleFlight() needs a Keyv over a KeyvMemcachedStore, or a cache with one among its stores',
    );
  // Compressed values are written by Keyv's own set only; not reproduced here.
  if (keyv.opts?.compression !== undefined)
    throw new TypeError('singleFlight() does not support a Keyv with compression');
  return keyv;
}

/** The key as Keyv hands it to its store (Keyv 5's prefixing rule). */
function keyvKey(keyv: KeyvLike, key: string): string {
  const namespace = keyv.namespace;
  if (keyv.useKeyPrefix === false || namespace === undefined || namespace === '') return key;
  return key.startsWith(`${namespace}:`) ? key : `${namespace}:${key}`;
}
