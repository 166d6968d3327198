import { ClusterRouter } from '../cluster/ClusterRouter.js';
import { Listeners } from '../cluster/Listeners.js';
import type { ServerSpec } from '../cluster/ServerSelector.js';
import {
  atEntry,
  InvalidStateError,
  InvalidValueError,
  lightError,
  type MemcachedCacheError,
  OverloadedError,
  ValueTooLargeError,
} from '../component/errors.js';
import { type EncodedKey, encodeKey, keyBytes } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { RequestKind } from '../protocol/ReplyCollector.js';
import {
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaInvalidate,
  metaNoop,
  metaTouch,
  SetMode,
  statsCommand,
  versionCommand,
} from '../protocol/RequestEncoder.js';
import { type Clock, systemClock, TickClock } from '../transport/Clock.js';
import { Pool } from '../transport/Pool.js';
import { type ServerEndpoint, withHiddenPassword } from '../transport/ServerEndpoint.js';
import { tracePromise } from '../transport/tracing.js';
import { checkCounter, checkTtl, toBuffer, type Value } from './ArgumentChecks.js';
import {
  type MemcachedClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './ClientOptions.js';
import { type ClusterDiscovery, type DiscoveryStatus, discoveryFor } from './ClusterDiscovery.js';
import { type Command, ITEM_FLAGS, MetaGetCommand, MetaSetCommand, type WriteKind } from './Command.js';
import { DeadlineQueue } from './DeadlineQueue.js';
import {
  type CommandName,
  type CommandTraceContext,
  commandTracing,
  type TopologyChange,
  topologyChannel,
} from './diagnostics.js';
import { FailureDetector } from './FailureDetector.js';
import type { Item, LeasedItem } from './Item.js';
import { Operation, type OperationHost } from './Operation.js';
import { identity, isHeader, isLeasePlaceholder, toCounter, toItem, toVoid } from './ReplyTransforms.js';
import { ServerPools } from './ServerPools.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StoreOptions extends CallOptions {
  /** Seconds; 0 (default) never expires. Above 30 days it is sent as an absolute time. */
  ttl?: number;
  /** 32-bit client flags stored with the value. */
  flags?: number;
}

/** One entry of `setMany`: TTL in seconds and flags as for `set`. */
export interface SetEntry {
  key: string;
  value: Value;
  ttl?: number;
  flags?: number;
}

/** Options of `getOrLease`. */
export interface LeaseOptions extends CallOptions {
  /**
   * Seconds: when the value's remaining TTL is below this, one caller (across all processes)
   * gets `win` together with the current value, to refresh it before it expires (`mg … R`).
   */
  refreshAhead?: number;
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
  private readonly pools: ServerPools;
  private readonly discovery: ClusterDiscovery | null;
  /** The first discovery, while it runs or once it succeeded. */
  private firstDiscovery: Promise<unknown> | null = null;
  private readonly topologyListeners = new Listeners<TopologyChange>();
  private topologyVersion = 0;
  /** Also the one home of the client's closed state (`closed` below reads it). */
  private readonly host: OperationHost & { closed: boolean };
  private readonly detector: FailureDetector;
  private readonly clock: Clock = systemClock;
  /** Weight of the calls in progress (a batch counts one per key), bounded by `maxPending`. */
  private pending = 0;
  private lastOverload: { pending: number; message: string; details: Record<string, unknown> } | null = null;

  constructor(options: MemcachedClientOptions) {
    this.options = resolveClientOptions(options);
    if (this.options.servers.length === 0)
      throw new InvalidValueError('MemcachedClient needs at least one server');
    const auto = this.options.autoDiscovery;
    // An auto-discovered cluster starts with no data server: connect() performs the first discovery.
    const servers = auto === undefined ? this.options.servers : [];
    this.discovery = discoveryFor(this.options, {
      known: () => this.servers,
      health: () => this.router,
      apply: (servers, change) => {
        // Only a closed client refuses, and discovery has stopped then.
        this.setServers(servers, change).catch(() => {});
      },
    });
    this.router = new ClusterRouter({
      servers: servers.map(serverSpec),
      failures: this.options.failures,
      retryMs: this.options.retryMs,
      ...(this.options.selector ? { selector: this.options.selector } : {}),
    });
    this.pools = new ServerPools((endpoint) => this.makePool(endpoint), servers);
    this.detector = new FailureDetector(this.router, this.clock, (id) => this.pools.get(id)!.connect());
    // Data properties only (no getter): an accessor in this literal made every load from it in
    // Operation a generic LoadIC call (~700 instructions per call, measured with callgrind).
    this.host = {
      requestTimeoutMs: this.options.requestTimeoutMs,
      retries: this.options.retries,
      clock: this.clock,
      callClock: new TickClock(this.clock),
      deadlines: new DeadlineQueue(this.clock),
      closed: false,
      route: (command) => command.server ?? this.route(command.key!),
      poolFor: (id) => this.pools.single ?? this.pools.get(id),
      release: (weight) => {
        this.pending -= weight;
      },
    };
    this.router.onChange((change) => {
      // An ejected server's sockets are likely broken; drop them so a rejoin starts fresh.
      if (change.type === 'eject') this.pools.get(change.id)?.closeConnections();
    });
  }

  /**
   * Connects to every server. Resolves as soon as one answers (with the ids that answered by
   * then); the others keep connecting in the background and any that fails counts as a failed
   * server. Rejects with the first error only when every server failed. With `autoDiscovery`
   * it first discovers the server list (once; a failed first discovery is tried again by the
   * next connect()), rejecting with ConfigError or ConnectionError naming every endpoint when
   * none gave one.
   */
  connect(): Promise<string[]> {
    if (this.closed) return Promise.reject(new InvalidStateError('The memcached client is closed'));
    if (this.discovery === null) return this.connectPools();
    if (this.options.autoDiscovery === undefined) {
      this.discovery.startPolling();
      return this.connectPools();
    }
    if (this.firstDiscovery === null) {
      const first = this.discovery.start();
      this.firstDiscovery = first;
      first.catch(() => {
        if (this.firstDiscovery === first) this.firstDiscovery = null;
      });
    }
    return this.firstDiscovery.then(() => this.connectPools());
  }

  /** Discovery so far (null without `autoDiscovery` or `discoverServers`): source, version applied, last error. */
  get discoveryStatus(): DiscoveryStatus | null {
    return this.discovery?.status ?? null;
  }

  private connectPools(): Promise<string[]> {
    if (this.closed) return Promise.reject(new InvalidStateError('The memcached client is closed'));
    return this.pools.connectAll();
  }

  /** The id (`host:port` or socket path) of the server `key` maps to now. */
  serverFor(key: string): string {
    return this.route(encodeKey(key, this.options.maxKeySize));
  }

  get(key: string, options?: CallOptions): Promise<Item | null> {
    if (this.overloadedBy(1)) return this.shed(key);
    let encoded: EncodedKey;
    try {
      encoded = encodeKey(key, this.options.maxKeySize);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.execute(new MetaGetCommand('get', encoded, ITEM_FLAGS, toItem, this.giveBackWin), options);
  }

  /** Get and touch: reads the value and sets a new TTL (seconds) in one round trip. */
  async gat(key: string, ttl: number, options?: CallOptions): Promise<Item | null> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(ttl, encoded);
    return this.execute(
      new MetaGetCommand('gat', encoded, `${ITEM_FLAGS} T${wire}`, toItem, this.giveBackWin),
      options,
    );
  }

  /** Sets a new TTL (seconds); false when the key does not exist. */
  async touch(key: string, ttl: number, options?: CallOptions): Promise<boolean> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(ttl, encoded);
    return this.execute(
      keyCommand('touch', encoded, (opaque) => metaTouch(encoded.token, wire, opaque), isHeader),
      options,
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
    return this.store(key, value, WRITE_SET, '', options);
  }

  /**
   * Stores many entries, all or nothing as far as validation goes: every key, value, TTL and
   * flags is checked before anything is sent, and one bad entry rejects the call (its error names
   * `batch entry N` and the key) with nothing written. The writes then go out pipelined.
   */
  setMany(entries: ReadonlyArray<SetEntry>, options?: CallOptions): Promise<void> {
    const commands: Array<MetaSetCommand<void>> = [];
    try {
      this.assertOpen();
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        commands.push(atEntry(i, () => this.setCommand(entry.key, entry.value, WRITE_SET, '', entry)));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.all(commands.map((command) => this.execute(command, options))).then(toVoid);
  }

  /** Stores only if the key does not exist; false when it does. */
  add(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, WRITE_ADD, '', options);
  }

  /** Stores only if the key exists; false when it does not. */
  replace(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, WRITE_REPLACE, '', options);
  }

  /** Appends bytes to an existing value; false when the key does not exist. */
  append(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, WRITE_APPEND, '', options);
  }

  /** Prepends bytes to an existing value; false when the key does not exist. */
  prepend(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, WRITE_PREPEND, '', options);
  }

  /** Stores only if the item still has this CAS; false on conflict or when it is gone. */
  async cas(key: string, value: Value, cas: string, options?: StoreOptions): Promise<boolean> {
    // async: a bad argument rejects like every other method instead of throwing synchronously.
    if (typeof cas !== 'string' || !/^\d{1,20}$/.test(cas))
      throw new InvalidValueError('cas must be the decimal CAS unique returned by get()', { key });
    return this.store(key, value, WRITE_CAS, cas, options);
  }

  /** Deletes; false when the key did not exist (or, with `cas`, was changed meanwhile). */
  async delete(key: string, options?: CallOptions & { cas?: string }): Promise<boolean> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const cas = options?.cas ?? '';
    if (cas !== '' && !/^\d{1,20}$/.test(cas))
      throw new InvalidValueError('cas must be a decimal CAS unique', { key });
    return this.execute(
      keyCommand('delete', encoded, (opaque) => metaDelete(encoded.token, cas, opaque), isHeader, cas === ''),
      options,
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
  async getOrLease(key: string, leaseTtl: number, options?: LeaseOptions): Promise<LeasedItem> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(Math.max(1, leaseTtl), encoded);
    let flags = `${ITEM_FLAGS} N${wire}`;
    const ahead = options?.refreshAhead;
    if (ahead !== undefined && ahead > 0) flags += ` R${this.ttl(ahead, encoded)}`;
    const response = await this.execute(
      new MetaGetCommand('getOrLease', encoded, flags, identity<MetaResponse>),
      options,
    );
    const placeholder = isLeasePlaceholder(response);
    return {
      item: toItem(response),
      win: response.win,
      pending: placeholder && !response.win,
      stale: response.stale,
      ttl: response.ttl === -2 ? null : response.ttl,
    };
  }

  /**
   * Marks the value stale for `staleTtl` more seconds instead of deleting it (`md … I T`):
   * readers keep getting it (`getOrLease` reports `stale`), and the first `getOrLease` after
   * this wins the refresh (`win`) while the others are served the stale value. With `cas`, only
   * if the item is still that version. False when the key is not there.
   */
  async invalidate(
    key: string,
    staleTtl: number,
    options?: CallOptions & { cas?: string },
  ): Promise<boolean> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const wire = this.ttl(Math.max(1, staleTtl), encoded);
    const cas = options?.cas ?? '';
    return this.execute(
      keyCommand(
        'invalidate',
        encoded,
        (opaque) => metaInvalidate(encoded.token, wire, cas, opaque),
        isHeader,
      ),
      options,
    );
  }

  /**
   * Stores the refreshed value of an item read with `cas` (by `getOrLease`): stored either way,
   * but when the item changed since that read (invalidated again, or written by someone else)
   * it is stored stale (`ms … I C<cas>`), so a late refresh never passes for the current value
   * and the next reader refreshes again.
   */
  revalidate(key: string, value: Value, cas: string, options?: StoreOptions): Promise<void> {
    return this.store(key, value, WRITE_REVALIDATE, cas, options);
  }

  /** Invalidates every item on every server (after `delaySeconds`). */
  async flush(delaySeconds = 0, options?: CallOptions): Promise<void> {
    const line = flushAllCommand(delaySeconds);
    // Not idempotent in time: a retried flush_all could land after a later write.
    await this.everyServer('flush', RequestKind.Flush, line, false, options);
  }

  /** `stats [group]` of every server, by server id. */
  async stats(group = '', options?: CallOptions): Promise<Map<string, Map<string, string>>> {
    if (!/^[a-z_ ]*$/.test(group))
      throw new InvalidValueError('stats group must be a word such as "settings" or "slabs"');
    return this.everyServer<Map<string, string>>(
      'stats',
      RequestKind.Stats,
      statsCommand(group),
      true,
      options,
    );
  }

  /** The version each server reports, by server id. */
  version(options?: CallOptions): Promise<Map<string, string>> {
    return this.everyServer<string>('version', RequestKind.Version, versionCommand(), true, options);
  }

  /**
   * Replaces the server list while the client runs. The new ring is built aside and swapped in one
   * step; servers in both lists (same id) keep their connections and health. A removed server
   * gets no new requests: what was written to it is answered (at most `request_timeout`), what
   * was not goes to the key's new owner, then its sockets close. An added server's first
   * requests wait for its connection within their deadline. Resolves the change applied (null
   * when the list is the same) once the removed servers' sockets are closed; listeners and the
   * `memcached-cache:topology` channel hear of it at once. `change` names the source and, for a
   * versioned cluster configuration, its version (else the count of applied changes is used).
   */
  async setServers(
    servers: readonly ServerEndpoint[],
    change: { source?: string; version?: number } = {},
  ): Promise<TopologyChange | null> {
    this.assertOpen();
    if (!Array.isArray(servers) || servers.length === 0)
      throw new InvalidValueError('setServers needs at least one server');
    const next = servers.map(withHiddenPassword);
    if (new Set(next.map((e) => e.id)).size !== next.length)
      throw new InvalidValueError('setServers: a server is listed twice');
    if (next.length === this.pools.ids().length && next.every((e) => this.pools.has(e.id))) return null;
    const { added, removed, leaving } = this.pools.replace(next);
    this.router.setServers(next.map(serverSpec));
    this.topologyVersion++;
    const applied: TopologyChange = {
      added: added.map((e) => e.id),
      removed,
      source: change.source ?? 'setServers',
      version: change.version ?? this.topologyVersion,
    };
    this.topologyListeners.emit(applied);
    if (topologyChannel.hasSubscribers) topologyChannel.publish(applied);
    for (const endpoint of added)
      this.pools
        .get(endpoint.id)!
        .connect()
        .catch(() => {}); // failures count as usual
    await this.pools.drain(leaving);
    return applied;
  }

  /** Registers a listener for applied server-list changes; returns a function that removes it. */
  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return this.topologyListeners.add(listener);
  }

  /**
   * A plain read was handed a stale item's win (see StaleWinHandler): mark it stale again for
   * what is left of it, only if it is still that version, which hands the win to the next reader
   * (a `getOrLease` that will reload). Fire and forget: the read has its value already.
   */
  private readonly giveBackWin = (key: EncodedKey, reply: MetaResponse): void => {
    const left = reply.ttl > 0 ? reply.ttl : 1;
    this.invalidate(key.key, left, { cas: reply.cas }).catch(() => {});
  };

  /** Rejects pending requests, closes every socket and timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.host.closed = true;
    this.discovery?.stop();
    this.detector.close();
    this.pools.close();
    // Calls waiting for a retry settle on their own (dispatch sees `closed`); none needs the timer.
    this.host.deadlines.clear();
  }

  private get closed(): boolean {
    return this.host.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The servers keys are spread over now (configured, set or discovered), in list order. */
  get servers(): ServerEndpoint[] {
    return this.router.serverIds.map((id) => this.pools.get(id)!.endpoint);
  }

  /** Connections currently open, by server id (for diagnostics and tests). */
  connectionCounts(): Map<string, number> {
    return this.pools.counts();
  }

  // ---- internals ----

  private makePool(endpoint: ServerEndpoint): Pool {
    return new Pool(endpoint, {
      maxConnections: this.options.poolSize,
      idleTimeoutMs: this.options.idleTimeoutMs,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      // Replies are read up to max_value (at least 1 MB, memcached's default item size) plus
      // 1 KB of slack; a bigger value fails only its own read.
      maxValueBytes: Math.max(this.options.maxValueSize, 1024 * 1024) + 1024,
      clock: this.clock,
      onServerFailure: (error: MemcachedCacheError) => this.detector.serverFailed(endpoint.id, error),
      onServerReady: () => this.detector.serverAnswered(endpoint.id),
    });
  }

  private store<T>(
    key: string,
    value: Value,
    write: WriteKind<T>,
    cas: string,
    options: StoreOptions | undefined,
  ): Promise<T> {
    if (this.overloadedBy(1)) return this.shed(key);
    let command: MetaSetCommand<T>;
    try {
      command = this.setCommand(key, value, write, cas, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.execute(command, options);
  }

  /** Validates one write (key, value size, TTL, flags) and builds its command; throws on a bad one. */
  private setCommand<T>(
    key: string,
    value: Value,
    write: WriteKind<T>,
    cas: string,
    options: StoreOptions | undefined,
  ): MetaSetCommand<T> {
    const encoded = encodeKey(key, this.options.maxKeySize);
    const data = toBuffer(value, key);
    if (data.length > this.options.maxValueSize) {
      throw new ValueTooLargeError(
        `Value for the key is ${data.length} bytes; the limit is ${this.options.maxValueSize} (max_value)`,
        { key },
      );
    }
    const ttl = this.ttl(options?.ttl ?? 0, encoded);
    const flags = options?.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff)
      throw new InvalidValueError('flags must be a 32-bit unsigned integer', { key });
    return new MetaSetCommand(write, encoded, data, ttl, flags, cas);
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
      keyCommand(
        decrement ? 'decr' : 'incr',
        encoded,
        (opaque) => metaArithmetic(encoded.token, decrement, delta, initial ?? 0, ttl, opaque),
        toCounter,
        false,
      ),
      options,
    );
  }

  /**
   * Runs one call as an Operation: routed, sent, retried on transport failures until the
   * caller's deadline (see Operation). One promise per call. Past `maxPending` pending calls it
   * rejects at once with OverloadedError: nothing is sent, nothing is queued.
   */
  private execute<T>(command: Command<T>, options: CallOptions | undefined, weight = 1): Promise<T> {
    if (this.closed)
      return Promise.reject(
        new InvalidStateError('The memcached client is closed', { key: command.key?.key }),
      );
    if (this.overloadedBy(weight)) return Promise.reject(this.overloaded(command.key?.key));
    this.pending += weight;
    if (commandTracing.hasSubscribers) return this.traced(command, options, weight);
    const promise = new Promise<T>(capture);
    new Operation<T>(this.host, command, weight, options?.signal, captured.resolve, captured.reject).start();
    return promise;
  }

  /** `execute` when `memcached-cache:command` has subscribers: the same Operation, traced. */
  private traced<T>(command: Command<T>, options: CallOptions | undefined, weight: number): Promise<T> {
    const context: CommandTraceContext = { command: command.name };
    if (command.keys !== null) {
      context.keyCount = command.keys.length;
      context.batchSize = command.keys.length;
    } else if (command.key !== null) context.key = command.key.key;
    return tracePromise(
      commandTracing,
      context,
      () =>
        new Promise<T>((resolve, reject) => {
          new Operation<T>(this.host, command, weight, options?.signal, resolve, reject, context).start();
        }),
    );
  }

  /**
   * The fast path of an overloaded get/set: rejected before the key is even encoded, because
   * under a burst shedding must cost far less than the work it sheds (a burst of 200,000 calls
   * against a stopped server must settle within `request_timeout`).
   */
  /** Whether a call of `weight` would pass `maxPending`. A call heavier than the whole bound (a big batch) may still run alone. */
  private overloadedBy(weight: number): boolean {
    return this.pending + weight > this.options.maxPending && this.pending > 0;
  }

  private shed(key: string): Promise<never> {
    return Promise.reject(this.overloaded(typeof key === 'string' ? key : undefined));
  }

  private overloaded(key: string | undefined): OverloadedError {
    const pending = this.pending;
    let shared = this.lastOverload;
    // During a burst every rejection sees the same count: share its message and details (frozen)
    // instead of allocating them per call; a burst's garbage is what makes it slow.
    if (shared === null || shared.pending !== pending) {
      const max = this.options.maxPending;
      shared = {
        pending,
        message: `${pending} calls are pending (maxPending ${max}); this call was rejected without being sent`,
        details: Object.freeze({ requestSent: false, pending, maxPending: max }),
      };
      this.lastOverload = shared;
    }
    return lightError(OverloadedError, 'OVERLOADED', shared.message, { key, details: shared.details });
  }

  /** Validates and encodes keys (each once) and groups them by server, in first-seen order. */
  private groupByServer(keys: readonly string[]): EncodedKey[][] {
    const unique = keys.length > 1 ? new Set(keys) : keys;
    const maxKeySize = this.options.maxKeySize;
    if (this.pools.single !== null) {
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
      batchCommand(
        group,
        (first) => {
          let payload = '';
          for (let i = 0; i < group.length; i++) payload += metaGet(group[i]!.token, BATCH_FLAGS, first + i);
          return payload + metaNoop();
        },
        (replies) => {
          for (let i = 0; i < group.length; i++) {
            const reply = replies[i];
            if (reply?.win && reply.stale) this.giveBackWin(group[i]!, reply);
            const item = toItem(reply);
            if (item !== null) result.set(group[i]!.key, item);
          }
        },
      ),
      options,
      group.length,
    );
  }

  /** The key's server id; '' while the server list is empty (before the first discovery). */
  private route(encoded: EncodedKey): string {
    const single = this.pools.single;
    if (single !== null) return single.endpoint.id;
    return this.router.pick(keyBytes(encoded)) ?? '';
  }

  /** Sends one server-wide command to every server; resolves each one's result by server id. */
  private async everyServer<T>(
    name: 'flush' | 'stats' | 'version',
    kind: RequestKind,
    line: string,
    idempotent: boolean,
    options: CallOptions | undefined,
  ): Promise<Map<string, T>> {
    this.assertOpen();
    const ids = this.pools.ids();
    const results = await Promise.all(
      ids.map((server) =>
        this.execute<T>(
          {
            name,
            kind,
            key: null,
            keys: null,
            server,
            encode: () => line,
            data: null,
            idempotent,
            decode: identity,
          },
          options,
        ),
      ),
    );
    return new Map(ids.map((id, i) => [id, results[i]!]));
  }

  /** Validates a TTL in seconds and converts it to its wire form. */
  private ttl(seconds: number, encoded: EncodedKey): number {
    return checkTtl(seconds, encoded.key);
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('The memcached client is closed');
  }
}

/** What the router needs of an endpoint. */
function serverSpec(endpoint: ServerEndpoint): ServerSpec {
  return {
    id: endpoint.id,
    host: endpoint.socketPath ?? endpoint.host,
    port: endpoint.socketPath ? 0 : endpoint.port,
    weight: endpoint.weight ?? 1,
  };
}

/** A batch read asks for the item flags, quietly: only hits answer, `mn` ends the batch. */
const BATCH_FLAGS = `${ITEM_FLAGS} q`;

/**
 * The resolving functions of the promise being created: `new Promise(capture)` runs `capture`
 * synchronously, so they are read right after. One shared executor instead of a closure per call.
 */
const captured: { resolve: (value: any) => void; reject: (error: Error) => void } = {
  resolve: () => {},
  reject: () => {},
};

function capture(resolve: (value: any) => void, reject: (error: Error) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

// Commands are built by these functions from closures passed in, not as object literals with
// arrow-function members at each call site: a bundler keeping function names (esbuild
// `keepNames`, as tsx runs it) renames every such member on every call (~1 µs per set).

/** A single-key meta command without a data block (the less frequent ones; see MetaGetCommand). */
function keyCommand<T>(
  name: CommandName,
  key: EncodedKey,
  encode: (opaque: number) => string,
  decode: (reply: any) => T,
  idempotent = true,
): Command<T> {
  return {
    name,
    kind: RequestKind.Meta,
    key,
    keys: null,
    server: null,
    encode,
    data: null,
    idempotent,
    decode,
  };
}

/** Quiet `mg`s for one server's share of a getMany, ended by `mn`. */
function batchCommand(
  keys: readonly EncodedKey[],
  encode: (first: number) => string,
  decode: (replies: Array<MetaResponse | undefined>) => void,
): Command<void> {
  return {
    name: 'getMany',
    kind: RequestKind.Batch,
    key: keys[0]!,
    keys,
    server: null,
    encode,
    data: null,
    idempotent: true,
    decode,
  };
}

const WRITE_SET: WriteKind<void> = { name: 'set', mode: SetMode.Set, idempotent: true, decode: toVoid };
const WRITE_ADD: WriteKind<boolean> = { name: 'add', mode: SetMode.Add, idempotent: false, decode: isHeader };
const WRITE_REPLACE: WriteKind<boolean> = {
  name: 'replace',
  mode: SetMode.Replace,
  idempotent: false,
  decode: isHeader,
};
const WRITE_APPEND: WriteKind<boolean> = {
  name: 'append',
  mode: SetMode.Append,
  idempotent: false,
  decode: isHeader,
};
const WRITE_PREPEND: WriteKind<boolean> = {
  name: 'prepend',
  mode: SetMode.Prepend,
  idempotent: false,
  decode: isHeader,
};
const WRITE_CAS: WriteKind<boolean> = { name: 'cas', mode: SetMode.Set, idempotent: false, decode: isHeader };
/** `ms … I C<cas>`: stored either way; stale when the item changed since `cas` was read. */
const WRITE_REVALIDATE: WriteKind<void> = {
  name: 'revalidate',
  mode: SetMode.Set,
  idempotent: true,
  decode: toVoid,
  invalidateIfChanged: true,
};
