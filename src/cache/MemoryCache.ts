/**
 * `MemoryCache`: a cache in the process memory, as pip-services4's `MemoryCache`. Not suitable
 * for synchronising distributed processes — that is what `MemcachedCache` is for; this one is for
 * tests, single-process deployments and as a drop-in with the same observable behaviour.
 *
 * ### Configuration parameters
 * - `options.timeout`  — default time to live in milliseconds for `store` calls whose timeout is
 *   missing or ≤ 0 (default: 60000)
 * - `options.max_size` — most entries kept (default: 1000; `0` = unbounded). When full, expired
 *   entries are dropped first, then the least recently used (stored or retrieved) ones.
 *
 * Differences from pip-services4 that make it behave like `MemcachedCache`:
 * - values are kept as a JSON snapshot (bytes as a `Buffer` copy), so a `Date` reads back as its ISO
 *   string, objects are copies and `BigInt`s / cycles throw `InvalidValueError` (see `jsonCopy.ts`);
 * - `remove` resolves the removed value (or `null`), as every cache of this package does;
 * - keys must be non-empty strings (`InvalidKeyError`), and bad options throw `ConfigError`;
 * - eviction is LRU rather than "earliest expiration".
 *
 * Storing `null` (or `undefined`) removes the entry, as in pip-services4: it reads back as `null`.
 *
 * ```ts
 * const cache = new MemoryCache();
 * await cache.store('123', 'key1', 'ABC', 5000);
 * await cache.retrieve('123', 'key1'); // 'ABC'
 * ```
 */

import { checkComponentKey } from '../component/ComponentKey.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { readInteger } from '../component/ConfigReaders.js';
import { ContextResolver } from '../component/ContextResolver.js';
import type { ContextLike } from '../component/IContext.js';
import type { ICache, IConfigurable } from '../component/interfaces.js';
import { CacheEntry } from './CacheEntry.js';
import { isNullSnapshot, restoreValue, snapshotValue } from './jsonCopy.js';

/** Expired entries are swept at most this often when the cache is full (keeps `store` O(1)). */
const SWEEP_INTERVAL_MS = 1000;

export class MemoryCache implements ICache, IConfigurable {
  static readonly DEFAULT_TIMEOUT = 60000;
  static readonly DEFAULT_MAX_SIZE = 1000;

  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #cache = new Map<string, CacheEntry>();
  #timeout = MemoryCache.DEFAULT_TIMEOUT;
  #maxSize = MemoryCache.DEFAULT_MAX_SIZE;
  #lastSweep = 0;

  /** `config` is applied as by `configure`, for convenience. */
  constructor(config?: ConfigParams) {
    if (config != null) this.configure(config);
  }

  configure(config: ConfigParams): void {
    this.#timeout = readInteger(config, 'options.timeout', this.#timeout, { min: 1 });
    this.#maxSize = readInteger(config, 'options.max_size', this.#maxSize, { min: 0 });
    this.#trim(Date.now(), true);
  }

  /** Default time to live in milliseconds. */
  getTimeout(): number {
    return this.#timeout;
  }

  /** Most entries kept; `0` = unbounded. */
  getMaxSize(): number {
    return this.#maxSize;
  }

  /** Number of entries held, expired ones not yet dropped included. */
  getCount(): number {
    return this.#cache.size;
  }

  /** The value, or `null` when missing or expired. Each call returns a fresh copy. */
  async retrieve(context: ContextLike, key: string): Promise<any> {
    checkComponentKey(context, key);
    const entry = this.#cache.get(key);
    if (entry === undefined) return null;
    this.#cache.delete(key);
    if (entry.isExpired()) return null;
    this.#cache.set(key, entry); // most recently used
    return restoreValue(entry.getValue());
  }

  /**
   * Stores a snapshot of `value` for `timeout` ms (missing, ≤ 0 or not finite → `options.timeout`).
   * Resolves `value` as given (`undefined` → `null`); `null` removes the entry.
   */
  async store(context: ContextLike, key: string, value: any, timeout?: number | null): Promise<any> {
    checkComponentKey(context, key);
    const snapshot = snapshotValue(value, key, ContextResolver.getTraceId(context));
    if (isNullSnapshot(snapshot)) {
      this.#cache.delete(key);
      return value ?? null;
    }
    const ttl = timeout != null && Number.isFinite(timeout) && timeout > 0 ? timeout : this.#timeout;
    const now = Date.now();
    const entry = this.#cache.get(key);
    if (entry !== undefined) {
      this.#cache.delete(key);
      entry.setValue(snapshot, ttl, now);
      this.#cache.set(key, entry);
    } else {
      this.#cache.set(key, new CacheEntry(key, snapshot, ttl, now));
    }
    this.#trim(now, false);
    return value;
  }

  /** Removes the entry; resolves the value it held, or `null` when missing or expired. */
  async remove(context: ContextLike, key: string): Promise<any> {
    checkComponentKey(context, key);
    const entry = this.#cache.get(key);
    if (entry === undefined) return null;
    this.#cache.delete(key);
    return entry.isExpired() ? null : restoreValue(entry.getValue());
  }

  /** Removes every entry. */
  async clear(_context?: ContextLike): Promise<void> {
    this.#cache.clear();
  }

  /** Drops expired entries (throttled unless `force`), then least recently used ones, down to max_size. */
  #trim(now: number, force: boolean): void {
    if (this.#maxSize <= 0 || this.#cache.size <= this.#maxSize) return;
    if (force || now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now;
      for (const [k, e] of this.#cache) if (e.isExpired(now)) this.#cache.delete(k);
    }
    for (const k of this.#cache.keys()) {
      if (this.#cache.size <= this.#maxSize) break;
      this.#cache.delete(k);
    }
  }
}
