import type { MemcachedClient } from '../client/MemcachedClient.js';
import { MemcachedConnector } from '../client/MemcachedConnector.js';
import { ConfigParams } from '../component/ConfigParams.js';
import { readInteger, readString } from '../component/ConfigReaders.js';
import { ContextResolver } from '../component/ContextResolver.js';
import {
  InvalidKeyError,
  InvalidStateError,
  InvalidValueError,
  MemcachedCacheError,
  TimeoutError,
} from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import type { ICache, IConfigurable, IOpenable, IReferenceable } from '../component/interfaces.js';
import { secondsForMs } from '../protocol/TtlEncoder.js';
import { CacheInstrumentation, TIMING_RETRIEVE, TIMING_STORE } from './CacheInstrumentation.js';
import { JsonCodec } from './codec/JsonCodec.js';
import type { ValueCodec } from './codec/ValueCodec.js';
import { NearCache } from './NearCache.js';

/** Every option this component reads, with its default: milliseconds unless the name says bytes. */
const DEFAULT_CONFIG = ConfigParams.fromTuples(
  'options.max_size',
  1000, // entries in the optional near cache
  'options.max_key_size',
  250, // bytes, after key_prefix
  'options.max_expiration',
  2_592_000_000, // ms (30 days); longer TTLs are clamped
  'options.max_value',
  1_048_576, // bytes of the encoded value
  'options.pool_size',
  5, // connections per server
  'options.reconnect',
  10_000, // ms: connect timeout
  'options.timeout',
  60_000, // ms: default TTL for store()
  'options.retries',
  3, // retries after a transport failure
  'options.failures',
  5, // consecutive failures that eject a server
  'options.retry',
  30_000, // ms an ejected server stays out before a probe
  'options.idle',
  5_000, // ms before an idle connection is closed
  'options.request_timeout',
  1_000, // ms: longest wait for one reply
  'options.key_prefix',
  '', // prepended to every key
  'options.compression_threshold',
  0, // bytes; 0 disables compression
  'options.near_cache_ttl',
  0, // ms; 0 disables the near cache
  'options.lease_timeout',
  10_000, // ms a getOrStore loader may take before others retry
);

const MAX_TTL_MS = 2_592_000_000 * 12 * 10; // sanity bound for max_expiration: ~10 years
const REMOVE_ATTEMPTS = 8;

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
export class MemcachedCache implements ICache, IConfigurable, IReferenceable, IOpenable {
  private readonly connector = new MemcachedConnector();
  private client: MemcachedClient | null = null;
  private opening: Promise<void> | null = null;
  /** A codec given to the constructor; otherwise the JSON codec follows `compression_threshold`. */
  private readonly customCodec: ValueCodec | null;
  // Set by configure(), which the constructor runs with the defaults above.
  private codec!: ValueCodec;
  private near!: NearCache;
  private keyPrefix!: string;
  private defaultTtlMs!: number;
  private maxExpirationMs!: number;
  private maxSize!: number;
  private leaseTimeoutMs!: number;
  /** Optional logger/counters references (see CacheInstrumentation). */
  private readonly instruments = new CacheInstrumentation();

  constructor(codec?: ValueCodec) {
    this.customCodec = codec ?? null;
    this.configure(new ConfigParams());
  }

  configure(config: ConfigParams): void {
    const c = config.setDefaults(DEFAULT_CONFIG);
    this.connector.configure(c);
    this.maxSize = readInteger(c, 'options.max_size', 1000, { min: 0, max: 10_000_000 });
    this.maxExpirationMs = readInteger(c, 'options.max_expiration', 2_592_000_000, {
      min: 1000,
      max: MAX_TTL_MS,
    });
    this.defaultTtlMs = readInteger(c, 'options.timeout', 60_000, { min: 1, max: MAX_TTL_MS });
    this.keyPrefix = readString(c, 'options.key_prefix', '');
    this.leaseTimeoutMs = readInteger(c, 'options.lease_timeout', 10_000, { min: 1000, max: MAX_TTL_MS });
    const threshold = readInteger(c, 'options.compression_threshold', 0, { min: 0 });
    this.codec = this.customCodec ?? new JsonCodec({ compressionThreshold: threshold });
    this.near = new NearCache(
      this.maxSize,
      readInteger(c, 'options.near_cache_ttl', 0, { min: 0, max: MAX_TTL_MS }),
    );
  }

  setReferences(references: IReferences): void {
    this.connector.setReferences(references);
    this.instruments.setReferences(references);
  }

  isOpen(): boolean {
    return this.client !== null;
  }

  /** Resolves the connections and verifies at least one server answers. Idempotent. */
  async open(context: ContextLike): Promise<void> {
    if (this.client !== null) return;
    this.opening ??= this.connector.open(context).then(
      (client) => {
        this.client = client;
        this.opening = null;
        this.instruments.opened(context, client);
      },
      (error) => {
        this.opening = null;
        throw error;
      },
    );
    return this.opening;
  }

  /** Rejects pending work and closes every socket; the process can then exit. Idempotent. */
  async close(context: ContextLike): Promise<void> {
    const client = this.client;
    this.client = null;
    this.instruments.closed(context, client !== null);
    this.near.clear();
    client?.close();
  }

  /** The value stored under `key`, or null when missing or expired. */
  retrieve(context: ContextLike, key: string): Promise<any> {
    // The two hot methods are written without async frames: one promise on top of the client's.
    let pending: Promise<any>;
    try {
      const client = this.openClient(context);
      const fullKey = this.fullKey(key);
      const cached = this.near.get(fullKey);
      if (cached !== undefined) {
        this.instruments.retrieved(true);
        return this.instruments.timed(
          TIMING_RETRIEVE,
          Promise.resolve(this.decode(cached.data, cached.flags, key)),
        );
      }
      pending = client.get(fullKey).then(
        (item) => {
          this.instruments.retrieved(item !== null);
          if (item === null) return null;
          this.near.set(fullKey, item.value, item.flags, this.maxExpirationMs);
          try {
            return this.decode(item.value, item.flags, key);
          } catch (error) {
            throw withTrace(error, context);
          }
        },
        (error) => {
          throw withTrace(error, context);
        },
      );
    } catch (error) {
      pending = Promise.reject(withTrace(error, context));
    }
    return this.instruments.timed(TIMING_RETRIEVE, pending);
  }

  /**
   * Stores `value` for `timeout` ms (≤ 0 or missing: the `timeout` option; above
   * `max_expiration`: clamped). Resolves the stored value.
   */
  store(context: ContextLike, key: string, value: any, timeout?: number | null): Promise<any> {
    let pending: Promise<any>;
    try {
      const client = this.openClient(context);
      const fullKey = this.fullKey(key);
      const ttlMs = this.ttlMs(timeout, key);
      const encoded = this.codec.encode(value, key);
      pending = client.set(fullKey, encoded.data, { ttl: secondsForMs(ttlMs), flags: encoded.flags }).then(
        () => {
          this.near.set(fullKey, encoded.data, encoded.flags, ttlMs);
          return value;
        },
        (error) => {
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
  async remove(context: ContextLike, key: string): Promise<any> {
    return this.traced(context, async (client) => {
      const fullKey = this.fullKey(key);
      this.near.delete(fullKey);
      for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
        const item = await client.get(fullKey);
        if (item === null) return null;
        if (await client.delete(fullKey, { cas: item.cas })) return this.decode(item.value, item.flags, key);
        // Changed or deleted meanwhile: read again to report what is actually deleted.
      }
      throw new TimeoutError(`remove() lost the race ${REMOVE_ATTEMPTS} times to concurrent writers`, {
        key,
      });
    });
  }

  /** Reads many keys in one pipelined round trip per server; missing keys are absent. */
  async retrieveMany(context: ContextLike, keys: readonly string[]): Promise<Map<string, any>> {
    return this.traced(context, async (client) => {
      const fullKeys = keys.map((k) => this.fullKey(k));
      const items = await client.getMany(fullKeys);
      const result = new Map<string, any>();
      keys.forEach((key, i) => {
        const item = items.get(fullKeys[i]!);
        if (item !== undefined) result.set(key, this.decode(item.value, item.flags, key));
      });
      return result;
    });
  }

  /** Stores many entries; requests for all of them go out pipelined in one write per server. */
  async storeMany(
    context: ContextLike,
    entries: Iterable<readonly [string, any]>,
    timeout?: number | null,
  ): Promise<void> {
    return this.traced(context, async (client) => {
      const prepared = [...entries].map(([key, value]) => {
        const ttlMs = this.ttlMs(timeout, key);
        return { key: this.fullKey(key), ttl: secondsForMs(ttlMs), ...this.codec.encode(value, key) };
      });
      await Promise.all(prepared.map((p) => client.set(p.key, p.data, { ttl: p.ttl, flags: p.flags })));
      for (const p of prepared) this.near.delete(p.key);
    });
  }

  /**
   * Returns the cached value, or runs `loader` and stores its result. Across every process
   * sharing the cache, concurrent misses on one key run `loader` once: memcached hands a lease
   * to one caller (meta `N`/`W` flags) while the others wait for its value.
   */
  async getOrStore<T>(
    context: ContextLike,
    key: string,
    timeout: number | null | undefined,
    loader: () => Promise<T> | T,
  ): Promise<T> {
    return this.traced(context, async (client) => {
      const fullKey = this.fullKey(key);
      const ttlMs = this.ttlMs(timeout, key);
      const leaseSeconds = secondsForMs(this.leaseTimeoutMs);
      const giveUpAt = Date.now() + 2 * this.leaseTimeoutMs;
      for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
        const lease = await client.getOrLease(fullKey, leaseSeconds);
        if (lease.win) {
          let value: T;
          try {
            value = await loader();
          } catch (error) {
            // Free the lease so another caller can try at once instead of after lease_timeout.
            await client.delete(fullKey).catch(() => {});
            throw error;
          }
          const encoded = this.codec.encode(value, key);
          await client.set(fullKey, encoded.data, { ttl: secondsForMs(ttlMs), flags: encoded.flags });
          return value;
        }
        if (lease.item !== null) return this.decode(lease.item.value, lease.item.flags, key) as T;
        if (Date.now() > giveUpAt) {
          throw new TimeoutError(
            `getOrStore() waited ${2 * this.leaseTimeoutMs} ms for another caller's value`,
            { key },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    });
  }

  /** The underlying client, for operations the ICache contract lacks (incr, cas, stats …). */
  getClient(context?: ContextLike): MemcachedClient {
    return this.openClient(context);
  }

  /** The `max_size` option (near cache entries). */
  get maxNearCacheSize(): number {
    return this.maxSize;
  }

  private async traced<T>(context: ContextLike, call: (client: MemcachedClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.openClient(context));
    } catch (error) {
      throw withTrace(error, context);
    }
  }

  private openClient(context: ContextLike): MemcachedClient {
    if (this.client === null) {
      throw new InvalidStateError('MemcachedCache is not open: call open() first', {
        traceId: ContextResolver.getTraceId(context),
      });
    }
    return this.client;
  }

  private fullKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new InvalidKeyError(
        `Key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`,
      );
    }
    return this.keyPrefix === '' ? key : this.keyPrefix + key;
  }

  /** TTL in ms from the caller's timeout: ≤ 0/missing → default; clamped to max_expiration. */
  private ttlMs(timeout: number | null | undefined, key: string): number {
    if (timeout === null || timeout === undefined) return Math.min(this.defaultTtlMs, this.maxExpirationMs);
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new InvalidValueError(`timeout must be a number of milliseconds, got ${typeof timeout}`, { key });
    }
    const ms = timeout <= 0 ? this.defaultTtlMs : timeout;
    return Math.min(ms, this.maxExpirationMs);
  }

  private decode(data: Buffer, flags: number, key: string): unknown {
    // An empty flags-0 value is no JSON at all: it is a lease placeholder, i.e. a miss.
    if (data.length === 0 && flags === 0) return null;
    return this.codec.decode(data, flags, key);
  }
}

/** Every error leaving the component carries the caller's trace id. */
function withTrace(error: unknown, context: ContextLike): unknown {
  if (error instanceof MemcachedCacheError) error.withTraceId(ContextResolver.getTraceId(context));
  return error;
}
