import { rendezvousSelector } from '../cluster/RendezvousSelector.js';
import type { SelectorFactory } from '../cluster/ServerSelector.js';
import { ConfigError } from '../component/errors.js';
import { frozenTable } from '../component/frozenTable.js';
import { AUTO_DISCOVERY_MODES, type AutoDiscoveryMode } from '../topology/serverListSource.js';
import type { WireProtocol } from '../transport/Connection.js';
import { type ServerEndpoint, withHiddenPassword } from '../transport/ServerEndpoint.js';

export interface MemcachedClientOptions {
  /**
   * The servers; keys are spread over them by consistent hashing. With `autoDiscovery`, the
   * configuration endpoints (or DNS names) the server list is discovered from instead.
   */
  servers: ServerEndpoint[];
  /**
   * Discover the server list (`auto_discovery`): `elasticache` (`config get cluster`),
   * `elasticache_legacy` (the item `AmazonElastiCache:cluster`) or `dns` (every address of each
   * configured host). `connect()` performs the first discovery; it is repeated every
   * `discoveryIntervalMs`. Default: none (the servers are the data servers).
   */
  autoDiscovery?: AutoDiscoveryMode;
  /**
   * Returns the current server list; called every `discoveryIntervalMs` after `connect()`, and a
   * changed, non-empty list is applied as by `setServers` (source `discovery`). An error or a
   * hang (bounded by `requestTimeoutMs`) keeps the list in use. Used by the components for a
   * pip-services `discovery_key`; cannot be combined with `autoDiscovery`.
   */
  discoverServers?: () => Promise<ServerEndpoint[]>;
  /** How often the server list is discovered again, ms (`discovery_interval`). Default 60,000. */
  discoveryIntervalMs?: number;
  /**
   * Most servers a discovered list may hold (`discovery_max_servers`); a longer list is not
   * applied: `discoveryStatus.lastError` says why and the last good list stays. Default 256.
   */
  discoveryMaxServers?: number;
  /** Most connections per server (`pool_size`). Default 5. */
  poolSize?: number;
  /** Longest a (re)connection may take, ms (`reconnect`). Default 10,000. */
  connectTimeoutMs?: number;
  /** Longest wait for one reply, ms (`request_timeout`). Default 1,000. */
  requestTimeoutMs?: number;
  /** Idle connections close after this many ms (`idle`); 0 keeps them. Default 5,000. */
  idleTimeoutMs?: number;
  /** Retries after a transport failure (`retries`). Default 3. */
  retries?: number;
  /** Consecutive failures that eject a server (`failures`). Default 5. */
  failures?: number;
  /** How long an ejected server stays out before a probe, ms (`retry`). Default 30,000. */
  retryMs?: number;
  /** Longest key in UTF-8 bytes (`max_key_size`). Default 250. */
  maxKeySize?: number;
  /** Largest value in bytes (`max_value`). Default 1,048,576. */
  maxValueSize?: number;
  /**
   * Most calls pending at once in this client (`max_pending`; a batch read counts one per key).
   * Past it a call rejects at once with OverloadedError (code `OVERLOADED`) instead of queueing
   * behind work that cannot finish within `request_timeout`. Default 16,384.
   */
  maxPending?: number;
  /**
   * Longest TTL, ms, of a value written to a substitute server while its key's home server is
   * ejected (`failover_ttl`; rounded up to whole seconds); a TTL of 0 (never expires) is capped
   * too. Default 60,000.
   */
  failoverTtlMs?: number;
  /**
   * Most keys recorded per ejected server (`outage_record_size`): the keys this client changes
   * while their home server is out, deleted on it before it rejoins. Past it the server is flushed
   * before it rejoins. Default 100,000.
   */
  outageRecordSize?: number;
  /** Key → server distribution; default libmemcached-compatible weighted ketama. */
  selector?: SelectorFactory;
  /**
   * `meta` (default): memcached ≥ 1.6 directly, on the meta protocol. `text`: the classic text
   * protocol, for a proxy (twemproxy, mcrouter) in front of the pool: the servers are then
   * interchangeable fronts — no hashing, every key to the first live one, failing over in list
   * order — and what needs the meta protocol (leases' refresh-ahead, invalidate, gat, stats,
   * flush) is refused with a ConfigError (see README "Behind a proxy").
   */
  protocol?: WireProtocol;
}

export type ResolvedClientOptions = Required<
  Omit<MemcachedClientOptions, 'selector' | 'autoDiscovery' | 'discoverServers'>
> & {
  selector?: SelectorFactory;
  autoDiscovery?: AutoDiscoveryMode;
  discoverServers?: () => Promise<ServerEndpoint[]>;
};

/** setTimeout's limit: a longer duration fires at once. */
export const MS_MAX = 2_147_483_647;

type NumericOption = Exclude<
  keyof ResolvedClientOptions,
  'servers' | 'selector' | 'autoDiscovery' | 'discoverServers' | 'protocol'
>;

/** The wire protocols, the default first (`protocol`, component option `options.protocol`). */
export const WIRE_PROTOCOLS: readonly WireProtocol[] = Object.freeze(['meta', 'text']);

/** The key distributions by name (`options.distribution`, the CLI's `--distribution`), the default first. */
export const DISTRIBUTIONS = Object.freeze(['ketama', 'rendezvous'] as const);
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * The `selector` option a named distribution and a protocol make: none for ketama (the client's
 * default) and none behind a proxy, where the client does not hash (protocol `text`).
 */
export function selectorOption(
  distribution: Distribution,
  protocol: WireProtocol,
): { selector?: SelectorFactory } {
  return distribution === 'rendezvous' && protocol === 'meta' ? { selector: rendezvousSelector } : {};
}

export interface ClientOptionSpec {
  /** The `options.*` key the component reads it from. */
  readonly configKey: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: 'ms' | 'bytes' | 'count';
}

/**
 * The one table of the client's numeric options: default, range and unit, with the config key
 * the component reads each from. `resolveClientOptions` validates against it and the connector
 * reads `options.*` from it, so a default or a range has exactly one home.
 */
export const CLIENT_OPTIONS: Readonly<Record<NumericOption, ClientOptionSpec>> = frozenTable({
  poolSize: { configKey: 'options.pool_size', default: 5, min: 1, max: 1000, unit: 'count' },
  connectTimeoutMs: { configKey: 'options.reconnect', default: 10_000, min: 1, max: MS_MAX, unit: 'ms' },
  requestTimeoutMs: { configKey: 'options.request_timeout', default: 1_000, min: 1, max: MS_MAX, unit: 'ms' },
  idleTimeoutMs: { configKey: 'options.idle', default: 5_000, min: 0, max: MS_MAX, unit: 'ms' },
  retries: { configKey: 'options.retries', default: 3, min: 0, max: 100, unit: 'count' },
  failures: { configKey: 'options.failures', default: 5, min: 1, max: 1_000_000, unit: 'count' },
  retryMs: { configKey: 'options.retry', default: 30_000, min: 0, max: MS_MAX, unit: 'ms' },
  maxKeySize: { configKey: 'options.max_key_size', default: 250, min: 1, max: 250, unit: 'bytes' },
  maxValueSize: {
    configKey: 'options.max_value',
    default: 1_048_576,
    min: 1,
    max: 1024 * 1024 * 1024,
    unit: 'bytes',
  },
  maxPending: { configKey: 'options.max_pending', default: 16_384, min: 1, max: 100_000_000, unit: 'count' },
  discoveryIntervalMs: {
    configKey: 'options.discovery_interval',
    default: 60_000,
    min: 100,
    max: MS_MAX,
    unit: 'ms',
  },
  // Applying a discovered list opens a socket per node and builds its ring in one tick. Measured
  // on the 2-core VM (other jobs running, so ranges): 5,000 nodes took 5,030 file descriptors
  // and stalled the event loop 1.5–8.5 s; 256 nodes took 286 and 170–340 ms; a refused 5,000
  // list costs 2 descriptors (the probe's) and ~12 ms. An ElastiCache Memcached cluster has at
  // most 60 nodes unless AWS raises the limit; Memorystore allows 100 nodes per region.
  discoveryMaxServers: {
    configKey: 'options.discovery_max_servers',
    default: 256,
    min: 1,
    max: 100_000,
    unit: 'count',
  },
  // At most 30 days: memcached reads a longer TTL as an absolute time, and a cap must compare
  // with relative ones.
  failoverTtlMs: {
    configKey: 'options.failover_ttl',
    default: 60_000,
    min: 1000,
    max: 2_592_000_000,
    unit: 'ms',
  },
  outageRecordSize: {
    configKey: 'options.outage_record_size',
    default: 100_000,
    min: 0,
    max: 100_000_000,
    unit: 'count',
  },
});

/** The defaults, by client option name (derived from CLIENT_OPTIONS). */
export const CLIENT_DEFAULTS = Object.freeze(
  Object.fromEntries(Object.entries(CLIENT_OPTIONS).map(([name, spec]) => [name, spec.default])),
) as Readonly<Record<NumericOption, number>>;

/**
 * Fills in defaults and validates every numeric option against CLIENT_OPTIONS: a bad one throws
 * ConfigError naming the option (and its config key), never a plain RangeError or a client that
 * fails every call "within -5 ms".
 */
export function resolveClientOptions(options: MemcachedClientOptions): ResolvedClientOptions {
  for (const [name, spec] of Object.entries(CLIENT_OPTIONS) as Array<[NumericOption, ClientOptionSpec]>) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
      const shown = typeof value === 'number' ? String(value) : `a ${typeof value}`;
      throw new ConfigError(
        `MemcachedClient option '${name}' (${spec.configKey}) must be an integer from ${spec.min} to ${spec.max}${spec.unit === 'count' ? '' : ` ${spec.unit}`}, got ${shown}`,
        { details: { option: name, configKey: spec.configKey } },
      );
    }
  }
  if (options.autoDiscovery !== undefined && !AUTO_DISCOVERY_MODES.includes(options.autoDiscovery))
    throw new ConfigError(
      `MemcachedClient option 'autoDiscovery' (options.auto_discovery) must be one of ${AUTO_DISCOVERY_MODES.join(', ')}`,
      { details: { option: 'autoDiscovery', configKey: 'options.auto_discovery' } },
    );
  if (options.discoverServers !== undefined && options.autoDiscovery !== undefined)
    throw new ConfigError(
      "MemcachedClient options 'discoverServers' and 'autoDiscovery' exclude each other",
      {
        details: { option: 'discoverServers' },
      },
    );
  if (options.protocol !== undefined && !WIRE_PROTOCOLS.includes(options.protocol))
    throw new ConfigError(
      `MemcachedClient option 'protocol' (options.protocol) must be one of ${WIRE_PROTOCOLS.join(', ')}`,
      { details: { option: 'protocol', configKey: 'options.protocol' } },
    );
  if (options.protocol === 'text' && options.selector !== undefined)
    throw new ConfigError(
      "MemcachedClient option 'selector' has no effect with protocol 'text': behind a proxy the proxy spreads keys, the client sends every key to its first live server",
      { details: { option: 'selector', configKey: 'options.distribution' } },
    );
  if (!Array.isArray(options.servers))
    throw new ConfigError("MemcachedClient option 'servers' must be an array of endpoints", {
      details: { option: 'servers' },
    });
  // Copies whose password is not enumerable, so inspecting the client never prints it.
  const servers = options.servers.map(withHiddenPassword);
  const resolved: ResolvedClientOptions = {
    ...CLIENT_DEFAULTS,
    protocol: WIRE_PROTOCOLS[0]!,
    ...stripUndefined(options),
    servers,
  };
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
