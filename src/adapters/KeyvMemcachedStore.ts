/**
 * A Keyv storage adapter over MemcachedClient (`memcached-cache/keyv`).
 *
 * ```ts
 * import Keyv from 'keyv';
 * import { KeyvMemcachedStore } from 'memcached-cache/keyv';
 * const keyv = new Keyv({ store: new KeyvMemcachedStore({ servers: '127.0.0.1:11211' }), namespace: 'users' });
 * ```
 *
 * Values: Keyv hands the store serialized strings, stored as UTF-8 with client flags 0 and read
 * back as strings; Buffers get flag 4 and come back as Buffers; any other value (a Keyv with
 * `serialize: undefined`) is stored as JSON with flag 2 and parsed back.
 *
 * Namespaces and `clear()`: memcached cannot list or delete keys by prefix, so each namespace has
 * a generation number kept in memcached under `keyv-namespace:<namespace>` (never expires), and
 * every key of the namespace is stored as `<namespace>@<generation>:<key>`. `clear()` increments
 * the generation: every key of the old generation becomes unreachable (memcached evicts them as
 * memory is needed, or when their TTL ends), while other namespaces are untouched. A missing
 * generation (first use, or evicted) is created from the current time in ms, so a re-created
 * generation never resurrects old keys. Only a store without a namespace
 * (`new Keyv({ store, namespace: undefined })`) clears with `flush_all`, and that clears the whole
 * server. Keyv's default namespace is `keyv`.
 *
 * The generation is cached in the process, per client and namespace (every store on one client
 * shares it), so an operation is one request: reading the generation key on every operation
 * cost a round trip each (344 µs against 260 µs per sequential get for @keyv/memcache) and sent
 * every operation of the cluster to the one server holding the key. It is read again when it is
 * older than `generationRefreshMs` — in the background from half that age, so steady traffic
 * never waits for it. A `clear()` in this process is seen at once by every store on its client;
 * one in another process within `generationRefreshMs` (default 1,000): until then this process
 * may still read the cleared values and write into the cleared generation (such writes are lost,
 * as a cleared namespace's are). `generationRefreshMs: 0` reads the generation on every
 * operation, as 0.2 did.
 *
 * Errors: a failed operation emits `error` (when someone listens) and rejects; Keyv turns
 * rejections into its own `error` events.
 *
 * cache-manager's `wrap` loads once per process; `singleFlight` (singleFlight.ts, exported here)
 * loads once across processes.
 */
import { EventEmitter } from 'node:events';
import type { MemcachedClientOptions } from '../client/ClientOptions.js';
import { endpointsFromServerList } from '../client/endpoints.js';
import type { Item } from '../client/Item.js';
import { MemcachedClient } from '../client/MemcachedClient.js';
import { secondsForMs } from '../protocol/TtlEncoder.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import { decode, encode } from './keyvValues.js';
import { NamespaceGenerations, refreshMsOption } from './namespaceGenerations.js';

export interface KeyvMemcachedStoreOptions extends Partial<Omit<MemcachedClientOptions, 'servers'>> {
  /** An existing client to use (not closed by `disconnect()`); otherwise one is created. */
  client?: MemcachedClient;
  /** `host:port,host2:port2` or a `memcached://` URI list; default `127.0.0.1:11211`. */
  servers?: string | ServerEndpoint[];
  /**
   * How old, in ms, the cached generation of the namespace may be before it is read again: the
   * longest a `clear()` by another process goes unseen here. Default 1,000; 0 reads it on every
   * operation (one more round trip each).
   */
  generationRefreshMs?: number;
}

export class KeyvMemcachedStore extends EventEmitter {
  /** Keyv reads and writes this; `opts.deserialize` may be set by Keyv's test suite. */
  opts: Record<string, unknown>;
  /** Set by Keyv from its `namespace` option; keys then arrive as `<namespace>:<key>`. */
  namespace: string | undefined;
  readonly client: MemcachedClient;
  private readonly ownsClient: boolean;
  private readonly generations: NamespaceGenerations;

  constructor(options: KeyvMemcachedStoreOptions = {}) {
    super();
    const { client, servers, generationRefreshMs, ...clientOptions } = options;
    const refreshMs = refreshMsOption(generationRefreshMs);
    this.opts = { ...options, dialect: 'memcached' };
    if (client !== undefined) {
      this.client = client;
      this.ownsClient = false;
    } else {
      const list = servers ?? '127.0.0.1:11211';
      this.client = new MemcachedClient({
        ...clientOptions,
        servers: typeof list === 'string' ? endpointsFromServerList(list) : list,
      });
      this.ownsClient = true;
    }
    this.generations = new NamespaceGenerations(this.client, refreshMs);
  }

  get<Value>(key: string): Promise<Value | undefined> {
    // The hot path, one promise chain: no async wrappers, and no await of a generation that is
    // cached (each would cost microtask turns on every sequential read).
    const storageKey = this.storageKeyOrPromise(key);
    const item =
      typeof storageKey === 'string'
        ? this.client.get(storageKey)
        : storageKey.then((k) => this.client.get(k));
    return item.then(decodeItem, this.reportError) as Promise<Value | undefined>;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return this.guard(async () => {
      const storageKeys = await this.storageKeys(keys);
      const items = await this.client.getMany(storageKeys);
      return storageKeys.map((k) => {
        const item = items.get(k);
        return item === undefined ? undefined : (decode(item.value, item.flags) as Value);
      });
    });
  }

  /** `ttl` in milliseconds (Keyv's unit), sent as `secondsForMs` (never earlier than asked); none or 0: no expiry. */
  set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    let written: Promise<void>;
    try {
      const options = { ttl: typeof ttl === 'number' && ttl > 0 ? secondsForMs(ttl) : 0, flags: 0 };
      const [data, flags] = encode(value);
      options.flags = flags;
      const storageKey = this.storageKeyOrPromise(key);
      written =
        typeof storageKey === 'string'
          ? this.client.set(storageKey, data, options)
          : storageKey.then((k) => this.client.set(k, data, options));
    } catch (error) {
      written = Promise.reject(error);
    }
    return written.then(stored, this.reportError);
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<boolean[]> {
    return Promise.all(entries.map((e) => this.set(e.key, e.value, e.ttl)));
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    return this.guard(async () => this.client.delete(await this.storageKey(key)));
  }

  /** True when every key existed and was deleted. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.guard(async () => {
      const storageKeys = await this.storageKeys(keys);
      const results = await Promise.all(storageKeys.map((k) => this.client.delete(k)));
      return results.length > 0 && results.every(Boolean);
    });
  }

  async has(key: string): Promise<boolean> {
    return this.guard(async () => (await this.client.get(await this.storageKey(key))) !== null);
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return this.guard(async () => {
      const storageKeys = await this.storageKeys(keys);
      const items = await this.client.getMany(storageKeys);
      return storageKeys.map((k) => items.has(k));
    });
  }

  /** Clears this namespace only (a new generation); without a namespace: `flush_all`. */
  async clear(): Promise<void> {
    return this.guard(async () => {
      if (this.namespace === undefined || this.namespace === '') {
        await this.client.flush();
        return;
      }
      await this.generations.bump(this.namespace);
    });
  }

  /** Closes the client if this store created it. */
  async disconnect(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }

  /**
   * The memcached key a key as Keyv hands it (`<namespace>:<key>`) is stored under:
   * `<namespace>@<generation>:<key>`; keys of no namespace unchanged. For `singleFlight`.
   */
  async storageKey(key: string): Promise<string> {
    return this.storageKeyOrPromise(key);
  }

  /** `storageKey`, synchronously while the generation is cached. */
  private storageKeyOrPromise(key: string): string | Promise<string> {
    const ns = this.namespace;
    if (ns === undefined || ns === '' || !key.startsWith(`${ns}:`)) return key;
    const generation = this.generations.current(ns);
    const rest = key.substring(ns.length);
    return typeof generation === 'number'
      ? `${ns}@${generation}${rest}`
      : generation.then((g) => `${ns}@${g}${rest}`);
  }

  private async storageKeys(keys: readonly string[]): Promise<string[]> {
    const ns = this.namespace;
    if (ns === undefined || ns === '') return keys.slice();
    const generation = await this.generations.current(ns);
    return keys.map((key) =>
      key.startsWith(`${ns}:`) ? `${ns}@${generation}${key.substring(ns.length)}` : key,
    );
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      return this.reportError(error);
    }
  }

  /** Keyv turns a store's rejections into its `error` events: emit, then reject with the same error. */
  private readonly reportError = (error: unknown): never => {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    throw error;
  };
}

function decodeItem(item: Item | null): unknown {
  return item === null ? undefined : decode(item.value, item.flags);
}

function stored(): boolean {
  return true;
}

export { type SingleFlightOptions, singleFlight } from './singleFlight.js';
export default KeyvMemcachedStore;
