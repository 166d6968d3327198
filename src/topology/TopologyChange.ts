import { channel } from 'node:diagnostics_channel';

export const TOPOLOGY_CHANNEL = 'memcached-cache:topology';

/** Where applied server-list changes are published (`TopologyChange`). */
export const topologyChannel = channel(TOPOLOGY_CHANNEL);

/** One applied change of the server list (see `MemcachedClient.setServers`). */
export interface TopologyChange {
  /** Server ids (`host:port`) that joined. */
  readonly added: readonly string[];
  /** Server ids that left. */
  readonly removed: readonly string[];
  /** What asked for it: `setServers`, or the discovery source (`elasticache`, `elasticache_legacy`, `dns`, `discovery`). */
  readonly source: string;
  /**
   * The cluster configuration's version for `elasticache` and `elasticache_legacy`; otherwise
   * the number of changes this client has applied.
   */
  readonly version: number;
}

export const REPLAY_CHANNEL = 'memcached-cache:outage-replay';

/** Where each completed outage replay is published (`OutageReplayed`). */
export const replayChannel = channel(REPLAY_CHANNEL);

/** An ejected server was made fit to rejoin: what this client changed while it was out was deleted on it. */
export interface OutageReplayed {
  /** The server that is about to rejoin. */
  readonly server: string;
  /** Keys deleted on it. */
  readonly keys: number;
  /** Whether it was flushed (its record had overflowed `outage_record_size`). */
  readonly flushed: boolean;
  /** How long the replay took, ms. */
  readonly ms: number;
}
