import { atEntry, InvalidStateError, InvalidValueError } from '../component/errors.js';
import { type EncodedKey, encodeKey } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { wireCas } from '../protocol/WireFields.js';
import type { ClusterDiscovery, DiscoveryStatus } from '../topology/ClusterDiscovery.js';
import type { ClusterView, Topology } from '../topology/Topology.js';
import type { TopologyChange } from '../topology/TopologyChange.js';
import { type Clock, systemClock } from '../transport/Clock.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import { CallExecutor, type CallOptions } from './CallExecutor.js';
import type { MemcachedClientOptions, ResolvedClientOptions } from './ClientOptions.js';
import { resolveClientOptions } from './ClientOptions.js';
import type { Command, WriteKind } from './Command.js';
import type { CommandLimits } from './commands/CommandLimits.js';
import { type CommandSet, META_COMMANDS, TEXT_COMMANDS } from './commands/CommandSet.js';
import { type CounterArguments, giveBackWinCommand } from './commands/KeyCommands.js';
import { leaseCommand } from './commands/ReadCommands.js';
import type { ServerCommandFor } from './commands/ServerCommands.js';
import {
  type Value,
  WRITE_ADD,
  WRITE_APPEND,
  WRITE_CAS,
  WRITE_PREPEND,
  WRITE_REPLACE,
  WRITE_REVALIDATE,
  WRITE_SET,
  type WriteArguments,
} from './commands/WriteCommands.js';
import { discoveryFor } from './discoveryFor.js';
import type { Item, ItemWithTtl, LeasedItem } from './Item.js';
import { toVoid } from './ReplyTransforms.js';
import { counterWithCreate, leaseByAdd } from './textEmulation.js';
import { topologyFor } from './topologyFor.js';

export type { CallOptions } from './CallExecutor.js';

export interface StoreOptions extends CallOptions, WriteArguments {}

/** One entry of `setMany`: TTL in seconds and flags as for `set`. */
export interface SetEntry extends WriteArguments {
  key: string;
  value: Value;
}

/** Options of `getOrLease`. */
export interface LeaseOptions extends CallOptions {
  /**
   * Seconds: when the value's remaining TTL is below this, one caller (across all processes)
   * gets `win` together with the current value, to refresh it before it expires (`mg … R`).
   */
  refreshAhead?: number;
}

export interface CounterOptions extends CallOptions, CounterArguments {}

/**
 * A memcached client on the meta protocol: pipelined, pooled, consistent-hashed over many
 * servers, ejecting failing servers and retrying on transport failures. All methods are
 * promise-based; keys are strings (any UTF-8; unsafe ones travel base64), values bytes.
 *
 * This class is the typed surface only: each method builds its command (checking its arguments,
 * see commands/) and hands it to the executor; where keys go is the topology's business.
 */
export class MemcachedClient {
  readonly options: ResolvedClientOptions;
  private readonly topology: Topology;
  private readonly calls: CallExecutor;
  private readonly limits: CommandLimits;
  /** The commands of the wire protocol in use (`protocol`). */
  private readonly commands: CommandSet;
  private readonly textProtocol: boolean;
  private readonly discovery: ClusterDiscovery | null;
  /** The first discovery, while it runs or once it succeeded. */
  private firstDiscovery: Promise<unknown> | null = null;

  constructor(options: MemcachedClientOptions) {
    this.options = resolveClientOptions(options);
    if (this.options.servers.length === 0)
      throw new InvalidValueError('MemcachedClient needs at least one server');
    const resolved = this.options;
    const clock: Clock = systemClock;
    this.limits = { maxKeySize: resolved.maxKeySize, maxValueSize: resolved.maxValueSize };
    this.textProtocol = resolved.protocol === 'text';
    this.commands = this.textProtocol ? TEXT_COMMANDS : META_COMMANDS;
    this.topology = topologyFor(resolved, clock);
    this.calls = new CallExecutor(this.topology, {
      requestTimeoutMs: resolved.requestTimeoutMs,
      retries: resolved.retries,
      maxPending: resolved.maxPending,
      clock,
    });
    this.discovery = discoveryFor(resolved, {
      known: () => this.servers,
      health: () => this.topology,
      apply: (list, change) => {
        // Only a closed client refuses, and discovery has stopped then.
        this.setServers(list, change).catch(() => {});
      },
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
    if (this.calls.closed) return Promise.reject(new InvalidStateError('The memcached client is closed'));
    if (this.discovery === null) return this.topology.connectAll();
    if (this.options.autoDiscovery === undefined) {
      this.discovery.startPolling();
      return this.topology.connectAll();
    }
    if (this.firstDiscovery === null) {
      const first = this.discovery.start();
      this.firstDiscovery = first;
      first.catch(() => {
        if (this.firstDiscovery === first) this.firstDiscovery = null;
      });
    }
    return this.firstDiscovery.then(() => {
      this.calls.assertOpen();
      return this.topology.connectAll();
    });
  }

  /** Discovery so far (null without `autoDiscovery` or `discoverServers`): source, version applied, last error. */
  get discoveryStatus(): DiscoveryStatus | null {
    return this.discovery?.status ?? null;
  }

  /** The id (`host:port` or socket path) of the server `key` maps to now. */
  serverFor(key: string): string {
    return this.topology.route(encodeKey(key, this.options.maxKeySize));
  }

  get(key: string, options?: CallOptions): Promise<Item | null> {
    if (this.calls.wouldOverload(1)) return this.calls.shed(key);
    let command: Command<Item | null>;
    try {
      command = this.commands.get(key, this.limits, this.giveBackWin);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.calls.execute(command, options);
  }

  /**
   * Like `get`, plus the seconds the item has left (null: never expires), read in the same
   * round trip; for tools that show an item's metadata (the CLI's `get -v`).
   */
  async getWithTtl(key: string, options?: CallOptions): Promise<ItemWithTtl | null> {
    return this.calls.execute(this.commands.getWithTtl(key, this.limits, this.giveBackWin), options);
  }

  /** Get and touch: reads the value and sets a new TTL (seconds) in one round trip. */
  async gat(key: string, ttl: number, options?: CallOptions): Promise<Item | null> {
    return this.calls.execute(this.commands.gat(key, ttl, this.limits, this.giveBackWin), options);
  }

  /** Sets a new TTL (seconds); false when the key does not exist. */
  async touch(key: string, ttl: number, options?: CallOptions): Promise<boolean> {
    return this.calls.execute(this.commands.touch(key, ttl, this.limits), options);
  }

  /**
   * Reads many keys: one pipelined batch of quiet `mg` per server, ended by `mn`, all servers in
   * parallel. Missing keys are absent from the map. Duplicate keys are read once.
   */
  getMany(keys: readonly string[], options?: CallOptions): Promise<Map<string, Item>> {
    let groups: Array<readonly EncodedKey[]>;
    try {
      this.calls.assertOpen();
      groups = this.groupByServer(keys, options?.failover === false);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = new Map<string, Item>();
    const read = (group: readonly EncodedKey[]) =>
      this.calls.execute(this.commands.batchRead(group, result, this.giveBackWin), options, group.length);
    if (groups.length === 1) return read(groups[0]!).then(() => result);
    return Promise.all(groups.map(read)).then(() => result);
  }

  /** Stores unconditionally. */
  set(key: string, value: Value, options?: StoreOptions): Promise<void> {
    return this.store(key, value, WRITE_SET, options);
  }

  /**
   * Stores many entries, all or nothing as far as validation goes: every key, value, TTL and
   * flags is checked before anything is sent, and one bad entry rejects the call (its error names
   * `batch entry N` and the key) with nothing written. The writes then go out pipelined.
   */
  setMany(entries: ReadonlyArray<SetEntry>, options?: CallOptions): Promise<void> {
    const commands: Array<Command<void>> = [];
    try {
      this.calls.assertOpen();
      if (!Array.isArray(entries)) throw new InvalidValueError('setMany takes an array of entries');
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        commands.push(
          atEntry(i, () =>
            this.commands.write(WRITE_SET, entry?.key, entry?.value, entry, null, this.limits),
          ),
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.all(commands.map((command) => this.calls.execute(command, options))).then(toVoid);
  }

  /** Stores only if the key does not exist; false when it does. */
  add(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, WRITE_ADD, options);
  }

  /** Stores only if the key exists; false when it does not. */
  replace(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(key, value, WRITE_REPLACE, options);
  }

  /** Appends bytes to an existing value; false when the key does not exist. */
  append(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, WRITE_APPEND, options);
  }

  /** Prepends bytes to an existing value; false when the key does not exist. */
  prepend(key: string, value: Value, options?: CallOptions): Promise<boolean> {
    return this.store(key, value, WRITE_PREPEND, options);
  }

  /** Stores only if the item still has this CAS; false on conflict or when it is gone. */
  async cas(key: string, value: Value, cas: string, options?: StoreOptions): Promise<boolean> {
    const command = this.commands.write(
      WRITE_CAS,
      key,
      value,
      options,
      wireCas(cas, 'cas', key),
      this.limits,
    );
    return this.calls.execute(command, options);
  }

  /**
   * Stores the refreshed value of an item read with `cas` (by `getOrLease`): stored either way,
   * but when the item changed since that read (invalidated again, or written by someone else)
   * it is stored stale (`ms … I C<cas>`), so a late refresh never passes for the current value
   * and the next reader refreshes again.
   */
  async revalidate(key: string, value: Value, cas: string, options?: StoreOptions): Promise<void> {
    const command = this.commands.write(
      WRITE_REVALIDATE,
      key,
      value,
      options,
      wireCas(cas, 'cas', key),
      this.limits,
    );
    return this.calls.execute(command, options);
  }

  /** Deletes; false when the key did not exist (or, with `cas`, was changed meanwhile). */
  async delete(key: string, options?: CallOptions & { cas?: string }): Promise<boolean> {
    return this.calls.execute(this.commands.delete(key, options?.cas, this.limits), options);
  }

  /**
   * Adds `delta` to a counter; resolves the new value, or null when it does not exist. Counters
   * are unsigned 64-bit: the value is a bigint, exact above 2^53 (a delta or initial above 2^53
   * must be a bigint too).
   */
  async incr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    if (this.textProtocol && options?.initial !== undefined)
      return counterWithCreate(this, key, false, delta, { ...options, initial: options.initial });
    return this.calls.execute(this.commands.counter(key, false, delta, options, this.limits), options);
  }

  /** Subtracts `delta` (memcached stops at 0); resolves the new value (a bigint), or null when missing. */
  async decr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    if (this.textProtocol && options?.initial !== undefined)
      return counterWithCreate(this, key, true, delta, { ...options, initial: options.initial });
    return this.calls.execute(this.commands.counter(key, true, delta, options, this.limits), options);
  }

  /**
   * Read with a lease against cache stampedes: on a miss the server creates a placeholder
   * that lives `leaseTtl` seconds (at least 1) and exactly one caller gets `win` — it computes
   * the value and stores it; the others see `pending` and read again shortly.
   */
  async getOrLease(key: string, leaseTtl: number, options?: LeaseOptions): Promise<LeasedItem> {
    if (this.textProtocol) return leaseByAdd(this, key, leaseTtl, options);
    return this.calls.execute(leaseCommand(key, leaseTtl, options?.refreshAhead, this.limits), options);
  }

  /**
   * Marks the value stale for `staleTtl` more seconds (at least 1) instead of deleting it
   * (`md … I T`): readers keep getting it (`getOrLease` reports `stale`), and the first
   * `getOrLease` after this wins the refresh (`win`) while the others are served the stale
   * value. With `cas`, only if the item is still that version. False when the key is not there.
   */
  async invalidate(
    key: string,
    staleTtl: number,
    options?: CallOptions & { cas?: string },
  ): Promise<boolean> {
    return this.calls.execute(this.commands.invalidate(key, staleTtl, options?.cas, this.limits), options);
  }

  /** Invalidates every item on every server (after `delaySeconds`, read like a TTL). */
  async flush(delaySeconds = 0, options?: CallOptions): Promise<void> {
    await this.everyServer(this.commands.flush(delaySeconds), options);
  }

  /** `stats [group]` of every server, by server id. */
  async stats(group = '', options?: CallOptions): Promise<Map<string, Map<string, string>>> {
    return this.everyServer(this.commands.stats(group), options);
  }

  /** The version each server reports, by server id. */
  async version(options?: CallOptions): Promise<Map<string, string>> {
    return this.everyServer(this.commands.version(), options);
  }

  /**
   * Replaces the server list while the client runs. Every entry is checked and the new ring built
   * aside before anything changes (a bad list throws ConfigError naming the entry and changes
   * nothing), then swapped in one step; servers in both lists (same id) keep their connections
   * and health. A removed server gets no new requests: what was written to it is answered (at
   * most `request_timeout`), what was not goes to the key's new owner, then its sockets close.
   * An added server's first requests wait for its connection within their deadline. Resolves
   * the change applied (null when the list is the same) once the removed servers' sockets are
   * closed; listeners and the `memcached-cache:topology` channel hear of it at once. `change`
   * names the source and, for a versioned cluster configuration, its version (else the count of
   * applied changes is used).
   */
  async setServers(
    servers: readonly ServerEndpoint[],
    change: { source?: string; version?: number } = {},
  ): Promise<TopologyChange | null> {
    this.calls.assertOpen();
    const applied = this.topology.setServers(servers, change);
    if (applied === null) return null;
    await applied.drained;
    return applied.change;
  }

  /** Registers a listener for applied server-list changes; returns a function that removes it. */
  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return this.topology.onChange(listener);
  }

  /** The cluster's state, read-only: server ids, the live ones keys go to, ejections and rejoins. */
  get cluster(): ClusterView {
    return this.topology.view;
  }

  /** Rejects pending requests, closes every socket and timer. Idempotent. */
  close(): void {
    if (this.calls.closed) return;
    this.calls.close();
    this.discovery?.stop();
    this.topology.close();
  }

  get isClosed(): boolean {
    return this.calls.closed;
  }

  /** The servers keys are spread over now (configured, set or discovered), in list order. */
  get servers(): ServerEndpoint[] {
    return this.topology.servers;
  }

  /** Connections currently open, by server id (for diagnostics and tests). */
  connectionCounts(): Map<string, number> {
    return this.topology.connectionCounts();
  }

  // ---- internals ----

  /**
   * A plain read was handed a stale item's win (see StaleWinHandler): mark it stale again, expiry
   * unchanged, only if it is still that version, which hands the win to the next reader (a
   * `getOrLease` that will reload). Fire and forget: the read has its value already.
   */
  private readonly giveBackWin = (key: EncodedKey, reply: MetaResponse): void => {
    let command: Command<boolean>;
    try {
      command = giveBackWinCommand(key, reply.cas);
    } catch {
      return; // a CAS that is not a uint64 (a server that is not memcached): no version to name
    }
    this.calls.execute(command, undefined).catch(() => {});
  };

  /** The hot writes: shed before any argument is checked, then built and run. */
  private store<T>(
    key: string,
    value: Value,
    write: WriteKind<T>,
    options: StoreOptions | undefined,
  ): Promise<T> {
    if (this.calls.wouldOverload(1)) return this.calls.shed(key);
    let command: Command<T>;
    try {
      command = this.commands.write(write, key, value, options, null, this.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.calls.execute(command, options);
  }

  /**
   * Validates and encodes keys (each once) and groups them by server, in first-seen order; by
   * their server in the full list for a `failover: false` call (`home`).
   */
  private groupByServer(keys: readonly string[], home: boolean): Array<readonly EncodedKey[]> {
    if (!Array.isArray(keys)) throw new InvalidValueError('getMany takes an array of keys');
    const maxKeySize = this.options.maxKeySize;
    const unique = keys.length > 1 ? new Set(keys) : null;
    const encoded: EncodedKey[] = [];
    // Without duplicates the array is walked (by index, cheaper than the set's iterator).
    if (unique === null || unique.size === keys.length)
      for (let i = 0; i < keys.length; i++) encoded.push(encodeKey(keys[i], maxKeySize));
    else for (const key of unique) encoded.push(encodeKey(key, maxKeySize));
    return [...this.topology.groupByServer(encoded, home).values()];
  }

  /** Sends one server-wide command to every server; resolves each one's result by server id. */
  private async everyServer<T>(
    commandFor: ServerCommandFor<T>,
    options: CallOptions | undefined,
  ): Promise<Map<string, T>> {
    this.calls.assertOpen();
    const ids = this.topology.view.serverIds.slice();
    const results = await Promise.all(ids.map((server) => this.calls.execute(commandFor(server), options)));
    return new Map(ids.map((id, i) => [id, results[i]!]));
  }
}
