import { ClusterRouter } from '../cluster/ClusterRouter.js';
import { InvalidStateError, InvalidValueError, ValueTooLargeError } from '../component/errors.js';
import { type EncodedKey, encodeKey, keyBytes } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import {
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaNoop,
  metaSetHeader,
  metaTouch,
  SetMode,
  statsCommand,
  versionCommand,
} from '../protocol/RequestEncoder.js';
import { Pool } from '../transport/Pool.js';
import { Request, RequestKind } from '../transport/Request.js';
import { checkCounter, checkTtl, toBuffer, type Value } from './ArgumentChecks.js';
import {
  type MemcachedClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './ClientOptions.js';
import type { CommandName } from './diagnostics.js';
import type { Item, LeasedItem } from './Item.js';
import { Operation, type OperationHost } from './Operation.js';
import { identity, isHeader, toCounter, toItem, toVoid } from './ReplyTransforms.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StoreOptions extends CallOptions {
  /** Seconds; 0 (default) never expires. Above 30 days it is sent as an absolute time. */
  ttl?: number;
  /** 32-bit client flags stored with the value. */
  flags?: number;
}

export interface CounterOptions extends CallOptions {
  /** Create a missing counter with this value (instead of answering null). */
  initial?: number | bigint;
  /** TTL in seconds for a counter created by `initial`. */
  ttl?: number;
}

/**
 * A memcached client on the meta protocol: pipelined, pooled, consistent-hashed over many
 * servers, ejecting failing servers and retrying on transport failures. All methods are
 * promise-based; keys are strings (any UTF-8; unsafe ones travel base64), values bytes.
 */
export class MemcachedClient {
  readonly options: ResolvedClientOptions;
  readonly router: ClusterRouter;
  private readonly pools = new Map<string, Pool>();
  private readonly singlePool: Pool | null;
  private readonly host: OperationHost;
  private probeTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: MemcachedClientOptions) {
    this.options = resolveClientOptions(options);
    const servers = this.options.servers;
    if (servers.length === 0) throw new InvalidValueError('MemcachedClient needs at least one server');
    this.router = new ClusterRouter({
      servers: servers.map((s) => ({
        id: s.id,
        host: s.socketPath ?? s.host,
        port: s.socketPath ? 0 : s.port,
        weight: s.weight ?? 1,
      })),
      failures: this.options.failures,
      retryMs: this.options.retryMs,
      ...(this.options.selector ? { selector: this.options.selector } : {}),
    });
    for (const endpoint of servers) {
      this.pools.set(
        endpoint.id,
        new Pool(endpoint, {
          maxConnections: this.options.poolSize,
          idleTimeoutMs: this.options.idleTimeoutMs,
          connectTimeoutMs: this.options.connectTimeoutMs,
          requestTimeoutMs: this.options.requestTimeoutMs,
          maxValueBytes: Math.max(this.options.maxValueSize, 1024 * 1024),
        }),
      );
    }
    this.singlePool = servers.length === 1 ? this.pools.get(servers[0]!.id)! : null;
    const client = this;
    this.host = {
      router: this.router,
      requestTimeoutMs: this.options.requestTimeoutMs,
      retries: this.options.retries,
      multiServer: servers.length > 1,
      get closed() {
        return client.closed;
      },
      route: (encoded) => this.route(encoded),
      poolFor: (id) => this.singlePool ?? this.pools.get(id)!,
    };
    this.router.onChange((change) => {
      // An ejected server's sockets are likely broken; drop them so a rejoin starts fresh.
      if (change.type === 'eject') this.pools.get(change.id)?.closeConnections();
      this.scheduleProbes();
    });
  }

  /** Connects to every server; resolves with the ids that answered, rejects if none did. */
  async connect(): Promise<string[]> {
    this.assertOpen();
    const results = await Promise.allSettled([...this.pools.values()].map((pool) => pool.connect()));
    const ok: string[] = [];
    let firstError: unknown;
    results.forEach((result, i) => {
      const id = this.router.serverIds[i]!;
      if (result.status === 'fulfilled') ok.push(id);
      else {
        firstError ??= result.reason;
        this.router.reportFailure(id);
      }
    });
    if (ok.length === 0) throw firstError;
    return ok;
  }

  /** The id (`host:port` or socket path) of the server `key` maps to now. */
  serverFor(key: string): string {
    return this.route(encodeKey(key, this.options.maxKeySize));
  }

  get(key: string, options?: CallOptions): Promise<Item | null> {
    let encoded: EncodedKey;
    try {
      encoded = encodeKey(key, this.options.maxKeySize);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.execute(
      'get',
      encoded,
      (opaque) => metaGet(encoded.token, 'v f c', opaque),
      null,
      true,
      options,
      toItem,
    );
  }

  /** Get and touch: reads the value and sets a new TTL (seconds) in one round trip. */
  async gat(key: string, ttl: number, options?: CallOptions): Promise<Item | null> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(ttl, encoded);
    return this.execute(
      'gat',
      encoded,
      (opaque) => metaGet(encoded.token, `v f c T${wire}`, opaque),
      null,
      true,
      options,
      toItem,
    );
  }

  /** Sets a new TTL (seconds); false when the key does not exist. */
  async touch(key: string, ttl: number, options?: CallOptions): Promise<boolean> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(ttl, encoded);
    return this.execute(
      'touch',
      encoded,
      (opaque) => metaTouch(encoded.token, wire, opaque),
      null,
      true,
      options,
      isHeader,
    );
  }

  /**
   * Reads many keys: one pipelined batch of quiet `mg` per server, ended by `mn`, all servers in
   * parallel. Missing keys are absent from the map. Duplicate keys are read once.
   */
  getMany(keys: readonly string[], options?: CallOptions): Promise<Map<string, Item>> {
    let groups: EncodedKey[][];
    try {
      this.assertOpen();
      groups = this.groupByServer(keys);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = new Map<string, Item>();
    if (groups.length === 1) return this.readBatch(groups[0]!, result, options).then(() => result);
    return Promise.all(groups.map((group) => this.readBatch(group, result, options))).then(() => result);
  }

  /** Stores unconditionally. */
  set(key: string, value: Value, options?: StoreOptions): Promise<void> {
    return this.store(key, value, SetMode.Set, '', options, true, toVoid);
  }

  /** Stores only if the key does not exist; false when it does. */
  add(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, SetMode.Add, '', options, false, isHeader);
  }

  /** Stores only if the key exists; false when it does not. */
  replace(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, SetMode.Replace, '', options, false, isHeader);
  }

  /** Appends bytes to an existing value; false when the key does not exist. */
  append(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, SetMode.Append, '', options, false, isHeader);
  }

  /** Prepends bytes to an existing value; false when the key does not exist. */
  prepend(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, SetMode.Prepend, '', options, false, isHeader);
  }

  /** Stores only if the item still has this CAS; false on conflict or when it is gone. */
  async cas(key: string, value: Value, cas: string, options?: StoreOptions): Promise<boolean> {
    // async: a bad argument rejects like every other method instead of throwing synchronously.
    if (typeof cas !== 'string' || !/^\d{1,20}$/.test(cas))
      throw new InvalidValueError('cas must be the decimal CAS unique returned by get()', { key });
    return this.store(key, value, SetMode.Set, cas, options, false, isHeader);
  }

  /** Deletes; false when the key did not exist (or, with `cas`, was changed meanwhile). */
  async delete(key: string, options?: CallOptions & { cas?: string }): Promise<boolean> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const cas = options?.cas ?? '';
    if (cas !== '' && !/^\d{1,20}$/.test(cas))
      throw new InvalidValueError('cas must be a decimal CAS unique', { key });
    return this.execute(
      'delete',
      encoded,
      (opaque) => metaDelete(encoded.token, cas, opaque),
      null,
      cas === '',
      options,
      isHeader,
    );
  }

  /** Adds `delta` to a counter; resolves the new value, or null when it does not exist. */
  incr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<number | null> {
    return this.arithmetic(key, false, delta, options);
  }

  /** Subtracts `delta` (memcached stops at 0); resolves the new value, or null when missing. */
  decr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<number | null> {
    return this.arithmetic(key, true, delta, options);
  }

  /**
   * Read with a lease against cache stampedes: on a miss the server creates a placeholder
   * that lives `leaseTtl` seconds and exactly one caller gets `win` — it computes the value and
   * stores it; the others see `pending` and read again shortly.
   */
  async getOrLease(key: string, leaseTtl: number, options?: CallOptions): Promise<LeasedItem> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(Math.max(1, leaseTtl), encoded);
    const response = await this.execute(
      'getOrLease',
      encoded,
      (opaque) => metaGet(encoded.token, `v f c N${wire}`, opaque),
      null,
      true,
      options,
      identity<MetaResponse>,
    );
    const item = toItem(response);
    // A vivified placeholder is an empty value with flags 0 that the winner has not replaced yet.
    const placeholder =
      item !== null && item.value.length === 0 && item.flags === 0 && (response.win || response.winSent);
    return {
      item: placeholder ? null : item,
      win: response.win,
      pending: placeholder && !response.win,
      stale: response.stale,
    };
  }

  /** Invalidates every item on every server (after `delaySeconds`). */
  async flush(delaySeconds = 0, options?: CallOptions): Promise<void> {
    await this.everyServer((pool) =>
      pool.send(new Request(RequestKind.Flush, flushAllCommand(delaySeconds), null, -1, 0), options?.signal),
    );
  }

  /** `stats [group]` of every server, by server id. */
  async stats(group = '', options?: CallOptions): Promise<Map<string, Map<string, string>>> {
    if (!/^[a-z_ ]*$/.test(group))
      throw new InvalidValueError('stats group must be a word such as "settings" or "slabs"');
    return this.everyServer((pool) => {
      const request = new Request(RequestKind.Stats, statsCommand(group), null, -1, 0);
      request.collected = new Map();
      return pool.send<Map<string, string>>(request, options?.signal);
    });
  }

  /** The version each server reports, by server id. */
  version(options?: CallOptions): Promise<Map<string, string>> {
    return this.everyServer((pool) =>
      pool.send<string>(new Request(RequestKind.Version, versionCommand(), null, -1, 0), options?.signal),
    );
  }

  /** Rejects pending requests, closes every socket and timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    for (const pool of this.pools.values()) pool.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Connections currently open, by server id (for diagnostics and tests). */
  connectionCounts(): Map<string, number> {
    return new Map([...this.pools].map(([id, pool]) => [id, pool.size]));
  }

  // ---- internals ----

  private store<T>(
    key: string,
    value: Value,
    mode: SetMode,
    cas: string,
    options: StoreOptions | undefined,
    idempotent: boolean,
    transform: (reply: MetaResponse) => T,
  ): Promise<T> {
    let encoded: EncodedKey;
    let data: Buffer;
    let ttl: number;
    let flags: number;
    try {
      encoded = encodeKey(key, this.options.maxKeySize);
      data = toBuffer(value, key);
      if (data.length > this.options.maxValueSize) {
        throw new ValueTooLargeError(
          `Value for the key is ${data.length} bytes; the limit is ${this.options.maxValueSize} (max_value)`,
          {
            key,
          },
        );
      }
      ttl = this.ttl(options?.ttl ?? 0, encoded);
      flags = options?.flags ?? 0;
      if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff)
        throw new InvalidValueError('flags must be a 32-bit unsigned integer', { key });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.execute(
      cas === '' ? SET_COMMANDS[mode] : 'cas',
      encoded,
      (opaque) => metaSetHeader(encoded.token, data.length, ttl, flags, mode, cas, opaque),
      data,
      idempotent,
      options,
      transform,
    );
  }

  private async arithmetic(
    key: string,
    decrement: boolean,
    delta: number | bigint,
    options?: CounterOptions,
  ): Promise<number | null> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    checkCounter(delta, 'delta', key);
    const initial = options?.initial;
    if (initial !== undefined) checkCounter(initial, 'initial', key);
    const ttl = initial === undefined ? -1 : this.ttl(options?.ttl ?? 0, encoded);
    return this.execute(
      decrement ? 'decr' : 'incr',
      encoded,
      (opaque) => metaArithmetic(encoded.token, decrement, delta, initial ?? 0, ttl, opaque),
      null,
      false,
      options,
      toCounter,
    );
  }

  /**
   * Runs one call as an Operation: routed, sent, retried on transport failures within the
   * request timeout (see Operation). One promise per call.
   */
  private execute<T>(
    command: CommandName,
    encoded: EncodedKey,
    build: (opaque: number) => string,
    data: Buffer | null,
    idempotent: boolean,
    options: CallOptions | undefined,
    transform: (reply: any) => T,
    batch = 0,
    batchKeys?: readonly EncodedKey[],
  ): Promise<T> {
    if (this.closed)
      return Promise.reject(new InvalidStateError('The memcached client is closed', { key: encoded.key }));
    return new Promise<T>((resolve, reject) => {
      new Operation<T>(
        this.host,
        command,
        encoded,
        build,
        data,
        idempotent,
        batch,
        batchKeys,
        transform,
        options?.signal,
        resolve,
        reject,
      ).start();
    });
  }

  /** Validates and encodes keys (each once) and groups them by server, in first-seen order. */
  private groupByServer(keys: readonly string[]): EncodedKey[][] {
    const unique = keys.length > 1 ? new Set(keys) : keys;
    const maxKeySize = this.options.maxKeySize;
    if (this.singlePool !== null) {
      const group: EncodedKey[] = [];
      for (const key of unique) group.push(encodeKey(key, maxKeySize));
      return group.length === 0 ? [] : [group];
    }
    const byServer = new Map<string, EncodedKey[]>();
    for (const key of unique) {
      const encoded = encodeKey(key, maxKeySize);
      const id = this.route(encoded);
      const list = byServer.get(id);
      if (list === undefined) byServer.set(id, [encoded]);
      else list.push(encoded);
    }
    return [...byServer.values()];
  }

  /** One pipelined batch of quiet `mg` ended by `mn`; hits are added to `result`. */
  private readBatch(
    group: EncodedKey[],
    result: Map<string, Item>,
    options: CallOptions | undefined,
  ): Promise<void> {
    return this.execute(
      'getMany',
      group[0]!,
      (first) => {
        let payload = '';
        for (let i = 0; i < group.length; i++) payload += metaGet(group[i]!.token, 'v f c q', first + i);
        return payload + metaNoop();
      },
      null,
      true,
      options,
      (replies: Array<MetaResponse | undefined>) => {
        for (let i = 0; i < group.length; i++) {
          const item = toItem(replies[i]);
          if (item !== null) result.set(group[i]!.key, item);
        }
      },
      group.length,
      group,
    );
  }

  private route(encoded: EncodedKey): string {
    if (this.singlePool !== null) return this.singlePool.endpoint.id;
    return this.router.pick(keyBytes(encoded))!;
  }

  private async everyServer<T>(call: (pool: Pool) => Promise<T>): Promise<Map<string, T>> {
    this.assertOpen();
    const entries = await Promise.all(
      [...this.pools].map(async ([id, pool]) => [id, await call(pool)] as const),
    );
    return new Map(entries);
  }

  /** Validates a TTL in seconds and converts it to its wire form. */
  private ttl(seconds: number, encoded: EncodedKey): number {
    return checkTtl(seconds, encoded.key);
  }

  private scheduleProbes(): void {
    if (this.closed || this.probeTimer !== null) return;
    const next = this.router.health.nextRetryAt();
    if (next === undefined) return;
    this.probeTimer = setTimeout(
      () => {
        this.probeTimer = null;
        this.probe();
      },
      Math.max(10, next - Date.now()),
    );
    this.probeTimer.unref();
  }

  /** Tries each ejected server whose `retry` time has come; one that answers rejoins the ring. */
  private probe(): void {
    for (const id of this.router.dueForProbe()) {
      if (!this.router.claimProbe(id)) continue;
      const pool = this.pools.get(id)!;
      pool
        .connect()
        .then(
          () => this.router.reportSuccess(id),
          () => this.router.reportFailure(id),
        )
        .finally(() => this.scheduleProbes());
    }
    this.scheduleProbes();
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('The memcached client is closed');
  }
}

const SET_COMMANDS: Record<SetMode, CommandName> = {
  [SetMode.Set]: 'set',
  [SetMode.Add]: 'add',
  [SetMode.Replace]: 'replace',
  [SetMode.Append]: 'append',
  [SetMode.Prepend]: 'prepend',
};
