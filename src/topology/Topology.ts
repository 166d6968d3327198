import { type ClusterChangeListener, ClusterRouter } from '../cluster/ClusterRouter.js';
import { Listeners } from '../cluster/Listeners.js';
import { primarySelector } from '../cluster/PrimarySelector.js';
import type { SelectorFactory } from '../cluster/ServerSelector.js';
import { ConfigError, type MemcachedCacheError } from '../component/errors.js';
import { type EncodedKey, keyBytes } from '../protocol/KeyEncoder.js';
import { type WireTtl, wireTtl } from '../protocol/WireFields.js';
import type { Clock } from '../transport/Clock.js';
import type { Pool } from '../transport/Pool.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import { FailureDetector } from './FailureDetector.js';
import { OutageRecord } from './OutageRecord.js';
import { replayOutage } from './OutageReplay.js';
import { ServerPools } from './ServerPools.js';
import { checkedServers, serverSpec } from './serverList.js';
import {
  type OutageReplayed,
  replayChannel,
  type TopologyChange,
  topologyChannel,
} from './TopologyChange.js';

/** What a pool reports about its server: the evidence the failure detector judges by. */
export interface ServerEvents {
  onServerFailure(error: MemcachedCacheError): void;
  onServerReady(): void;
}

export interface TopologyOptions {
  /** The first server list (empty for a discovered cluster before its first discovery). */
  servers: readonly ServerEndpoint[];
  /** Consecutive failures that eject a server (`failures`). */
  failures: number;
  /** How long an ejected server stays out before a probe, ms (`retry`). */
  retryMs: number;
  selector?: SelectorFactory;
  /**
   * The servers are interchangeable fronts of one pool (proxies): every key goes to the first live
   * one, and a key has no home — nothing a substitute takes is recorded, capped or replayed, as
   * every front reaches the same data.
   */
  interchangeable?: boolean;
  /** Most keys recorded per ejected server before its content is distrusted (`outage_record_size`). */
  outageRecordSize: number;
  /** Longest TTL of a copy written to a substitute server, whole seconds (`failover_ttl`). */
  failoverTtlSeconds: number;
  clock: Clock;
  /** Builds the pool of one server; the pool reports its server's health to `events`. */
  makePool(endpoint: ServerEndpoint, events: ServerEvents): Pool;
}

/** What a caller may see of the cluster's state: read-only (the ring and pools change together, inside). */
export interface ClusterView {
  /** Every server id in the list, in list order. */
  readonly serverIds: readonly string[];
  /** The servers keys are routed over now: the live ones (all of them when none is alive). */
  readonly routing: readonly string[];
  /** Whether `id` takes keys now (false while it is ejected). */
  isAlive(id: string): boolean;
  /** Hears each ejection and rejoin; returns a function that removes the listener. */
  onChange(listener: ClusterChangeListener): () => void;
}

/**
 * Where each key goes, and the servers that can take it: the server list, the ring over its live
 * servers, their pools and their health. The client asks it one question per attempt, `route`,
 * and gets one answer per key. Membership changes (`setServers`) are validated and built aside
 * first, then swapped in one step: an invalid list changes nothing.
 */
export class Topology {
  private readonly router: ClusterRouter;
  private readonly pools: ServerPools;
  private readonly detector: FailureDetector;
  private readonly outage: OutageRecord;
  private readonly failoverTtl: WireTtl;
  private readonly interchangeable: boolean;
  /** Whether the last `routeChange` sent its key to a substitute (read by `takeFailoverTtl`). */
  private substituted = false;
  private readonly listeners = new Listeners<TopologyChange>();
  /** Changes applied so far: the version of a change whose source has none. */
  private applied = 0;

  constructor(options: TopologyOptions) {
    const servers = checkedServers(options.servers, 'servers');
    this.interchangeable = options.interchangeable ?? false;
    const selector = this.interchangeable ? primarySelector : options.selector;
    this.router = new ClusterRouter({
      servers: servers.map(serverSpec),
      failures: options.failures,
      retryMs: options.retryMs,
      ...(selector ? { selector } : {}),
    });
    this.pools = new ServerPools(
      (endpoint) =>
        options.makePool(endpoint, {
          onServerFailure: (error) => this.detector.serverFailed(endpoint.id, error),
          onServerReady: () => this.detector.serverAnswered(endpoint.id),
        }),
      servers,
    );
    this.outage = new OutageRecord(options.outageRecordSize);
    this.failoverTtl = wireTtl(options.failoverTtlSeconds, 'failoverTtl');
    this.detector = new FailureDetector(
      this.router,
      options.clock,
      (id) => {
        // A server removed while its probe was due has no pool: the probe fails quietly.
        const pool = this.pools.get(id);
        return pool === undefined ? Promise.reject(new Error(`${id} left the server list`)) : pool.connect();
      },
      (id) => this.replayBeforeRejoin(id),
    );
    this.view = this.makeView();
    this.router.onChange((change) => {
      if (change.type === 'eject') {
        if (!this.interchangeable) this.outage.begin(change.id);
        // An ejected server's sockets are likely broken; drop them so a rejoin starts fresh.
        this.pools.get(change.id)?.closeConnections();
      } else this.outage.end(change.id);
    });
  }

  /** The key's server id; '' while the server list is empty (before the first discovery). */
  route(key: EncodedKey): string {
    const single = this.pools.single;
    if (single !== null) return single.endpoint.id;
    return this.router.pick(keyBytes(key)) ?? '';
  }

  /**
   * `route` for a call that changes the key (write, remove, touch, counter, invalidate). While a
   * server is out, a key of it goes to a substitute: the change is recorded against the home
   * server (replayed as a delete there before it rejoins), and `takeFailoverTtl` then answers the
   * cap for the substitute's copy. With every server in the ring it costs one boolean check.
   */
  routeChange(key: EncodedKey): string {
    const single = this.pools.single;
    if (single !== null) return single.endpoint.id;
    const bytes = keyBytes(key);
    const id = this.router.pick(bytes) ?? '';
    if (this.router.failingOver && !this.interchangeable) {
      const home = this.router.home(bytes)!;
      if (home !== id) {
        this.outage.record(home, key);
        this.substituted = true;
      }
    }
    return id;
  }

  /**
   * The TTL cap (`failover_ttl`) when the last `routeChange` went to a substitute, else null; asked
   * once right after it. A copy on a substitute must not outlive the outage for long: at the next
   * outage of the home server it would be served again, older than what was written since.
   */
  takeFailoverTtl(): WireTtl | null {
    if (!this.substituted) return null;
    this.substituted = false;
    return this.failoverTtl;
  }

  /** The key's server by the full list, whether it is in the ring or not (`failover: false`). */
  home(key: EncodedKey): string {
    const single = this.pools.single;
    if (single !== null) return single.endpoint.id;
    if (this.interchangeable) return this.route(key);
    return this.router.home(keyBytes(key)) ?? '';
  }

  /**
   * Groups keys by the server each goes to now — by the full list with `home` (`failover: false`)
   * — in first-seen order: a batch's requests, one per server (getMany, and a failed batch's
   * retry, whose keys may now belong to several servers).
   */
  groupByServer(keys: readonly EncodedKey[], home: boolean): Map<string, readonly EncodedKey[]> {
    // One server takes every key, alive or not: no per-key routing (getMany's common case).
    const single = this.pools.single;
    if (single !== null && keys.length > 0) return new Map([[single.endpoint.id, keys]]);
    const byServer = new Map<string, EncodedKey[]>();
    for (const key of keys) {
      const id = home ? this.home(key) : this.route(key);
      const group = byServer.get(id);
      if (group === undefined) byServer.set(id, [key]);
      else group.push(key);
    }
    return byServer;
  }

  /** Whether `id` takes keys now (false while it is ejected). */
  isAlive(id: string): boolean {
    return this.router.isAlive(id);
  }

  /** Keys recorded against ejected server `id` (0 when none, or after an overflow). */
  outageRecordSize(id: string): number {
    return this.outage.size(id);
  }

  /**
   * Before an ejected server that answered rejoins: delete on it what this client changed while it
   * was out (or flush it when the record overflowed). Null when there is nothing to undo.
   */
  private replayBeforeRejoin(id: string): Promise<void> | null {
    const pool = this.pools.get(id);
    const work = this.outage.take(id);
    if (work === null) return null;
    if (pool === undefined) return Promise.reject(new Error(`${id} left the server list`));
    const started = Date.now();
    return replayOutage(pool, work).then(
      () => {
        if (replayChannel.hasSubscribers)
          replayChannel.publish({
            server: id,
            keys: work.keys.length,
            flushed: work.flush,
            ms: Date.now() - started,
          } satisfies OutageReplayed);
      },
      (error: unknown) => {
        this.outage.restore(id, work);
        throw error;
      },
    );
  }

  /** The pool of a server in the list; undefined for one that is not (or no longer) in it. */
  poolFor(id: string): Pool | undefined {
    return this.pools.single ?? this.pools.get(id);
  }

  /** The servers keys are spread over (configured, set or discovered), in list order. */
  get servers(): ServerEndpoint[] {
    return this.router.serverIds.map((id) => this.pools.get(id)!.endpoint);
  }

  /** The cluster's state, read-only. */
  readonly view: ClusterView;

  private makeView(): ClusterView {
    const router = this.router;
    return {
      get serverIds() {
        return router.serverIds;
      },
      get routing() {
        return router.routing;
      },
      isAlive: (id) => router.isAlive(id),
      onChange: (listener) => router.onChange(listener),
    };
  }

  /** Whether the latest outcome of every server is a failure, ejected or not (see ClusterRouter). */
  get allFailing(): boolean {
    return this.router.allFailing;
  }

  /** Hears the moment every server is failing; returns a function that removes the listener. */
  onAllFailing(listener: () => void): () => void {
    return this.router.onAllFailing(listener);
  }

  /** Hears each applied server-list change; returns a function that removes the listener. */
  onChange(listener: (change: TopologyChange) => void): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Makes `servers` the list. Every entry is checked and the new ring built before anything
   * changes: a bad list throws ConfigError naming the entry and leaves the topology as it was.
   * Returns the change (null when the list is the same) and a promise of the removed servers'
   * pools having drained (see ServerPools.drain).
   */
  setServers(
    servers: readonly ServerEndpoint[],
    change: { source?: string; version?: number },
  ): { change: TopologyChange; drained: Promise<void> } | null {
    const next = checkedServers(servers, 'setServers');
    if (next.length === 0) throw new ConfigError('setServers needs at least one server');
    if (next.length === this.pools.ids().length && next.every((e) => this.pools.has(e.id))) return null;
    // The ring first: it is the step that can still refuse the list (a selector's own check).
    try {
      this.router.setServers(next.map(serverSpec));
    } catch (error) {
      throw new ConfigError(`setServers: the server list was refused: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const { added, removed, leaving } = this.pools.replace(next);
    for (const id of removed) this.outage.end(id);
    this.applied++;
    const applied: TopologyChange = {
      added: added.map((e) => e.id),
      removed,
      source: change.source ?? 'setServers',
      version: change.version ?? this.applied,
    };
    this.listeners.emit(applied);
    if (topologyChannel.hasSubscribers) topologyChannel.publish(applied);
    for (const endpoint of added)
      this.pools
        .get(endpoint.id)!
        .connect()
        .catch(() => {}); // failures count as usual
    return { change: applied, drained: this.pools.drain(leaving) };
  }

  /** Connects every server; resolves as soon as one answers (see ServerPools.connectAll). */
  connectAll(): Promise<string[]> {
    return this.pools.connectAll();
  }

  /** Open connections by server id. */
  connectionCounts(): Map<string, number> {
    return this.pools.counts();
  }

  close(): void {
    this.detector.close();
    this.pools.close();
  }
}
