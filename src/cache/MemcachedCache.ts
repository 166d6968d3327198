import type { MemcachedClient } from '../client/MemcachedClient.js';
import { withTrace } from '../component/ComponentKey.js';
import { ConfigParams } from '../component/ConfigParams.js';
import { atEntry, ConfigError, ContentionError, InvalidValueError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import type { ICache, IConfigurable } from '../component/interfaces.js';
import { readOption } from '../connector/ComponentOptions.js';
import { MemcachedComponent } from '../connector/MemcachedComponent.js';
import { secondsForMs } from '../protocol/TtlEncoder.js';
import { CacheInstrumentation, TIMING_RETRIEVE, TIMING_STORE } from './CacheInstrumentation.js';
import { CacheTimes } from './CacheTimes.js';
import { JsonCodec } from './codec/JsonCodec.js';
import type { EncodedValue, ValueCodec } from './codec/ValueCodec.js';
import { getOrStore } from './LoadCoordinator.js';
import { NearCache } from './NearCache.js';

const REMOVE_ATTEMPTS = 8;

/** Options of `getOrStore`. */
export interface GetOrStoreOptions {
  /** ms: refresh in the background when the remaining TTL drops below this (default `refresh_ahead`). */
  refreshAhead?: number;
}

/**
 * Distributed cache on memcached, shaped like pip-services4's MemcachedCache: configure with
 * ConfigParams, open, then store/retrieve/remove with TTLs in milliseconds.
 *
 * ```ts
 * const cache = new MemcachedCache();
 * cache.configure(ConfigParams.fromTuples('connection.host', 'localhost', 'connection.port', 11211));
 * await cache.open('123');
 * await cache.store('123', 'key1', 'ABC', 5000);
 * await cache.retrieve('123', 'key1'); // 'ABC'
 * ```
 */
export class MemcachedCache<V = any> extends MemcachedComponent implements ICache, IConfigurable {
  /** Optional logger/counters references (see CacheInstrumentation). */
  private readonly instruments = new CacheInstrumentation();
  /** A codec given to the constructor; otherwise the JSON codec follows `compression_threshold`. */
  private readonly customCodec: ValueCodec | null;
  // Set by configure(), which the constructor runs with the defaults (COMPONENT_OPTIONS).
  private codec!: ValueCodec;
  private near!: NearCache;
  private times!: CacheTimes;

  constructor(codec?: ValueCodec) {
    super('MemcachedCache');
    this.customCodec = codec ?? null;
    this.configure(new ConfigParams());
  }

  /**
   * Reads connections, credentials and options. Atomic: a config that throws ConfigError changes
   * nothing. Only while closed: it takes effect at the next `open()` (InvalidStateError if open).
   */
  configure(config: ConfigParams): void {
    this.lifecycle.configure(config, () => {
      const maxSize = readOption(config, 'max_size');
      const maxExpirationMs = readOption(config, 'max_expiration');
      const defaultTtlMs = readOption(config, 'timeout');
      const leaseTimeoutMs = readOption(config, 'lease_timeout');
      const threshold = readOption(config, 'compression_threshold');
      const nearTtlMs = readOption(config, 'near_cache_ttl');
      const staleTtlMs = readOption(config, 'stale_ttl');
      const refreshAheadMs = readOption(config, 'refresh_ahead');
      if (refreshAheadMs > 0 && readOption(config, 'protocol') === 'text')
        throw new ConfigError(
          "config key 'options.refresh_ahead' needs the meta protocol, and 'options.protocol' is text (for a proxy): the text protocol has no remaining TTL to refresh ahead by; set refresh_ahead to 0",
          { details: { configKey: 'options.refresh_ahead' } },
        );
      const maxValueBytes = readOption(config, 'max_value');
      return () => {
        this.times = new CacheTimes(
          defaultTtlMs,
          maxExpirationMs,
          leaseTimeoutMs,
          staleTtlMs,
          refreshAheadMs,
        );
        this.codec = this.customCodec ?? new JsonCodec({ compressionThreshold: threshold, maxValueBytes });
        this.near = new NearCache(maxSize, nearTtlMs);
      };
    });
  }

  override setReferences(references: IReferences): void {
    super.setReferences(references);
    this.instruments.setReferences(references);
  }

  protected override opened(context: ContextLike, client: MemcachedClient): void {
    this.instruments.opened(context, client);
  }

  protected override closed(context: ContextLike, wasOpen: boolean): void {
    this.instruments.closed(context, wasOpen);
    this.near.clear();
  }

  /** The value stored under `key`, or null when missing or expired. */
  retrieve<T extends V = V>(context: ContextLike, key: string): Promise<T | null> {
    // The two hot methods are written without async frames: one promise on top of the client's.
    let pending: Promise<T | null>;
    try {
      const client = this.lifecycle.openClient(context);
      const fullKey = this.lifecycle.fullKey(context, key);
      const cached = this.near.get(fullKey);
      if (cached !== undefined) {
        this.instruments.retrieved(true);
        const later = this.decodeLater<T>(cached.data, cached.flags, key);
        const hit =
          later === null
            ? Promise.resolve(NearCache.detached(this.decode<T>(cached.data, cached.flags, key), cached.data))
            : later.then((value) => NearCache.detached(value, cached.data), rethrowTraced(context));
        return this.instruments.timed(TIMING_RETRIEVE, hit);
      }
      const stamp = this.near.stamp();
      pending = client.get(fullKey).then((item) => {
        this.instruments.retrieved(item !== null);
        if (item === null) return null;
        // Kept near only once decoded: bytes that cannot be read are not served again from memory.
        try {
          const later = this.decodeLater<T>(item.value, item.flags, key);
          if (later !== null) {
            return later.then((value) => {
              this.near.setIfUnwritten(fullKey, stamp, item.value, item.flags, this.times.maxExpirationMs);
              return value;
            }, rethrowTraced(context));
          }
          const value = this.decode<T>(item.value, item.flags, key);
          this.near.setIfUnwritten(fullKey, stamp, item.value, item.flags, this.times.maxExpirationMs);
          return value;
        } catch (error) {
          throw withTrace(error, context);
        }
      }, rethrowTraced(context));
    } catch (error) {
      pending = Promise.reject(withTrace(error, context));
    }
    return this.instruments.timed(TIMING_RETRIEVE, pending);
  }

  /**
   * Stores `value` for `timeout` ms (≤ 0 or missing: the `timeout` option; above
   * `max_expiration`: clamped). Resolves the stored value.
   */
  store<T extends V = V>(context: ContextLike, key: string, value: T, timeout?: number | null): Promise<T> {
    let pending: Promise<T>;
    try {
      const client = this.lifecycle.openClient(context);
      const fullKey = this.lifecycle.fullKey(context, key);
      const ttlMs = this.times.ttlMs(timeout, key);
      const encoded = this.codec.encode(value, key);
      this.near.written(fullKey);
      const stamp = this.near.stamp();
      pending = client.set(fullKey, encoded.data, { ttl: secondsForMs(ttlMs), flags: encoded.flags }).then(
        () => {
          this.near.writeLanded(fullKey, stamp, encoded.data, encoded.flags, ttlMs);
          return value;
        },
        (error) => {
          this.near.written(fullKey); // it may have been applied: no reply in flight is trusted
          throw withTrace(error, context);
        },
      );
    } catch (error) {
      pending = Promise.reject(withTrace(error, context));
    }
    return this.instruments.timed(TIMING_STORE, pending);
  }

  /**
   * Deletes `key` and resolves the value that was deleted, or null. Atomic: the value is read
   * with its CAS and deleted only if unchanged, so a concurrent writer's value is never reported
   * as deleted unless it was.
   */
  async remove<T extends V = V>(context: ContextLike, key: string): Promise<T | null> {
    return this.lifecycle.traced(context, async (client) => {
      const fullKey = this.lifecycle.fullKey(context, key);
      this.near.written(fullKey);
      try {
        for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
          const item = await client.get(fullKey);
          if (item === null) return null;
          if (await client.delete(fullKey, { cas: item.cas }))
            return await this.decodeAny<T>(item.value, item.flags, key);
          // Changed or deleted meanwhile: read again to report what is actually deleted.
        }
      } finally {
        this.near.written(fullKey);
      }
      throw new ContentionError(
        `remove() of key '${key}' lost the race to concurrent writers ${REMOVE_ATTEMPTS} times (each read changed before its delete); the server answered every request`,
        { key, details: { attempts: REMOVE_ATTEMPTS } },
      );
    });
  }

  /**
   * Reads many keys in one pipelined round trip per server; missing keys are absent. An invalid
   * key rejects the call before anything is sent, its error naming `batch entry N`.
   */
  async retrieveMany<T extends V = V>(
    context: ContextLike,
    keys: readonly string[],
  ): Promise<Map<string, T>> {
    return this.lifecycle.traced(context, async (client) => {
      if (!Array.isArray(keys)) throw new InvalidValueError('retrieveMany takes an array of keys');
      const fullKeys = keys.map((key, i) => atEntry(i, () => this.lifecycle.fullKey(context, key)));
      const items = await client.getMany(fullKeys);
      const found: Array<Promise<readonly [string, T]>> = [];
      keys.forEach((key, i) => {
        const item = items.get(fullKeys[i]!);
        if (item !== undefined)
          found.push(this.decodeAny<T>(item.value, item.flags, key).then((value) => [key, value] as const));
      });
      return new Map(await Promise.all(found));
    });
  }

  /**
   * Stores many entries, all or nothing as far as validation goes: every key, TTL and value is
   * checked and encoded first, and a bad entry rejects the call with nothing written (its error
   * names `batch entry N` and the key). The writes go out pipelined, one write per server.
   */
  async storeMany<T extends V = V>(
    context: ContextLike,
    entries: Iterable<readonly [string, T]>,
    timeout?: number | null,
  ): Promise<void> {
    return this.lifecycle.traced(context, async (client) => {
      if (entries == null || typeof (entries as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function')
        throw new InvalidValueError('storeMany takes an iterable of [key, value] pairs (an array, a Map)');
      const prepared = [...entries].map((entry, i) =>
        atEntry(i, () => {
          if (!Array.isArray(entry) || entry.length !== 2)
            throw new InvalidValueError('each entry must be a [key, value] pair', {
              details: { argument: 'entries' },
            });
          const [key, value] = entry as readonly [string, T];
          const fullKey = this.lifecycle.fullKey(context, key);
          const ttl = secondsForMs(this.times.ttlMs(timeout, key));
          const encoded = this.codec.encode(value, key);
          return { key: fullKey, value: encoded.data, flags: encoded.flags, ttl };
        }),
      );
      for (const p of prepared) this.near.written(p.key);
      try {
        await client.setMany(prepared);
      } finally {
        for (const p of prepared) this.near.written(p.key);
      }
    });
  }

  /**
   * Returns the cached value, or runs `loader` and stores its result. Across every process
   * sharing the cache, concurrent misses on one key run `loader` once: memcached hands a lease
   * to one caller (meta `N`/`W` flags) while the others wait for its value. After `invalidate`,
   * every caller is served the stale value at once while one reloads. With `refreshAhead` (ms;
   * default the `refresh_ahead` option), a value whose remaining TTL drops below it is refreshed
   * in the background by one caller while every caller, that one included, gets it at once.
   * `loader` has `lease_timeout` to settle (LoaderTimeoutError; its signal aborts); `undefined`
   * is refused (InvalidValueError). Every call settles within L + lease_timeout +
   * 3 × request_timeout, L the lease in whole seconds (ContentionError when other callers' loads
   * kept the lease that long). See LoadCoordinator for the exact rules and README "Hot keys".
   */
  async getOrStore<T extends V = V>(
    context: ContextLike,
    key: string,
    timeout: number | null | undefined,
    loader: (signal: AbortSignal) => Promise<T> | T,
    options?: GetOrStoreOptions,
  ): Promise<T> {
    return this.lifecycle.traced(context, async (client) => {
      const fullKey = this.lifecycle.fullKey(context, key);
      const ttlMs = this.times.ttlMs(timeout, key);
      const refreshAheadMs = this.times.refreshAhead(options?.refreshAhead, key);
      this.near.written(fullKey);
      try {
        return await getOrStore(client, {
          fullKey,
          key,
          ttlSeconds: secondsForMs(ttlMs),
          leaseSeconds: secondsForMs(this.times.leaseTimeoutMs),
          leaseTimeoutMs: this.times.leaseTimeoutMs,
          // memcached's clock counts whole seconds: secondsForMs rounds up, so a refresh is never late.
          refreshAheadSeconds: refreshAheadMs > 0 ? secondsForMs(refreshAheadMs) : 0,
          staleSeconds: secondsForMs(this.times.staleTtlMs),
          loader,
          encode: (value) => this.loadedValue(value, key),
          decode: (item) => this.decodeAny<T>(item.value, item.flags, key),
          onBackgroundError: (error) => this.instruments.refreshFailed(context, key, error),
          onBackgroundWrite: () => this.near.written(fullKey),
        });
      } finally {
        this.near.written(fullKey);
      }
    });
  }

  /**
   * Marks the value of `key` stale for `staleMs` (default the `stale_ttl` option) instead of
   * deleting it: `getOrStore` callers keep being served it while one of them reloads; `retrieve`
   * still returns it. Resolves false when the key was not there. `remove()` keeps its meaning
   * (the value is gone).
   */
  async invalidate(context: ContextLike, key: string, staleMs?: number): Promise<boolean> {
    return this.lifecycle.traced(context, async (client) => {
      const fullKey = this.lifecycle.fullKey(context, key);
      const ms = this.times.stale(staleMs, key);
      this.near.written(fullKey);
      try {
        return await client.invalidate(fullKey, secondsForMs(Math.max(ms, 1)));
      } finally {
        this.near.written(fullKey);
      }
    });
  }

  /** The underlying client, for operations the ICache contract lacks (incr, cas, stats …). */
  getClient(context?: ContextLike): MemcachedClient {
    return this.lifecycle.openClient(context);
  }

  /**
   * What a getOrStore loader resolved, encoded for every caller to share. `undefined` is
   * refused rather than stored as JSON null: the loader's caller would get `undefined` and every
   * other caller `null`, and it is most often a loader that forgot to `return` — resolve `null`
   * to cache "no value".
   */
  private loadedValue(value: unknown, key: string): EncodedValue {
    if (value === undefined) {
      throw new InvalidValueError(
        `getOrStore() loader for key '${key}' resolved undefined; resolve null to cache "no value"`,
        { key },
      );
    }
    return this.codec.encode(value, key);
  }

  /** The codec's value; its type is the caller's claim (`retrieve<T>`), as with any cache. */
  private decode<T>(data: Buffer, flags: number, key: string): T {
    return this.codec.decode(data, flags, key) as T;
  }

  /** The codec's value decoded off the event loop, when decoding at once could block it (see ValueCodec). */
  private decodeLater<T>(data: Buffer, flags: number, key: string): Promise<T> | null {
    return (this.codec.decodeLater?.(data, flags, key) ?? null) as Promise<T> | null;
  }

  private async decodeAny<T>(data: Buffer, flags: number, key: string): Promise<T> {
    return this.decodeLater<T>(data, flags, key) ?? this.decode<T>(data, flags, key);
  }
}

/** A rejection handler that adds the call's trace id to an error of ours. */
function rethrowTraced(context: ContextLike): (error: unknown) => never {
  return (error) => {
    throw withTrace(error, context);
  };
}
