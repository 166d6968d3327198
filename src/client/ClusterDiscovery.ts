import net from 'node:net';
import { serverId } from '../cluster/ServerSelector.js';
import { ConfigError, ConnectionError, MemcachedCacheError, TimeoutError } from '../component/errors.js';
import {
  type ClusterConfigCommand,
  type ClusterNode,
  parseClusterConfig,
} from '../protocol/ClusterConfig.js';
import { fetchClusterConfig } from '../transport/ClusterConfigProbe.js';
import { resolveAddresses } from '../transport/dial.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import type { ResolvedClientOptions } from './ClientOptions.js';

/**
 * Where the server list comes from when it is discovered instead of configured:
 * - `elasticache`: `config get cluster` on a configuration endpoint (AWS ElastiCache for
 *   Memcached ≥ 1.4.14, Google Memorystore for Memcached's discovery endpoint);
 * - `elasticache_legacy`: the item `AmazonElastiCache:cluster` (ElastiCache engines before 1.4.14);
 * - `dns`: every address the configured host resolves to (e.g. a Kubernetes headless service).
 */
export type AutoDiscoveryMode = 'elasticache' | 'elasticache_legacy' | 'dns';

/** A source of the server list: an auto-discovery mode, or `discovery` (a caller's `discoverServers`). */
export type DiscoverySource = AutoDiscoveryMode | 'discovery';

export const AUTO_DISCOVERY_MODES: readonly AutoDiscoveryMode[] = [
  'elasticache',
  'elasticache_legacy',
  'dns',
];

/** One discovered server list. */
export interface DiscoveredServers {
  readonly servers: ServerEndpoint[];
  /** The cluster configuration's version; null for DNS, which has none. */
  readonly version: number | null;
  /** The endpoint that answered. */
  readonly from: string;
}

/** What discovery has done so far (for diagnostics and the CLI). */
export interface DiscoveryStatus {
  readonly mode: DiscoverySource;
  /** The last version applied (null before the first, and for DNS). */
  readonly version: number | null;
  /** The endpoint of the last successful discovery. */
  readonly from: string | null;
  /** The error of the last attempt when it failed, else null. The last good list stays applied. */
  readonly lastError: MemcachedCacheError | null;
}

export interface ClusterDiscoveryOptions {
  mode: DiscoverySource;
  /** The configuration endpoints (or, for `dns`, the names to resolve; unused for `discovery`). */
  endpoints: readonly ServerEndpoint[];
  /** For `discovery`: returns the current server list. */
  fetch?: () => Promise<ServerEndpoint[]>;
  intervalMs: number;
  /** Longest one attempt may take. */
  timeoutMs: number;
  /** The data servers in use now: for ElastiCache, each also answers `config get cluster`. */
  known: () => readonly ServerEndpoint[];
  /** Applies a list that passed the checks (newer version, not empty). */
  apply: (found: DiscoveredServers) => void;
}

/**
 * The discovery a client's options ask for (null for a fixed list): `autoDiscovery` asks its
 * `servers`; `discoverServers` is polled while the client starts on its `servers`.
 */
export function discoveryFor(
  options: ResolvedClientOptions,
  client: {
    known: () => readonly ServerEndpoint[];
    apply: (servers: ServerEndpoint[], change: { source: string; version?: number }) => void;
  },
): ClusterDiscovery | null {
  const mode = options.autoDiscovery ?? (options.discoverServers ? 'discovery' : undefined);
  if (mode === undefined) return null;
  return new ClusterDiscovery({
    mode,
    endpoints: options.servers,
    ...(options.discoverServers ? { fetch: options.discoverServers } : {}),
    intervalMs: options.discoveryIntervalMs,
    timeoutMs: options.requestTimeoutMs,
    known: client.known,
    apply: (found) =>
      client.apply(found.servers, {
        source: mode,
        ...(found.version === null ? {} : { version: found.version }),
      }),
  });
}

const COMMANDS: Record<Exclude<AutoDiscoveryMode, 'dns'>, ClusterConfigCommand> = {
  elasticache: 'config get cluster',
  elasticache_legacy: 'get AmazonElastiCache:cluster',
};

/**
 * Polls the cluster's membership every `intervalMs`. A list is applied only when its version is
 * higher than the last applied one (DNS lists have no version: the client ignores an unchanged
 * one) and it is not empty; after an error the last good list stays and the next attempt asks
 * the next configuration endpoint or known node, so one dead endpoint does not stop discovery.
 */
export class ClusterDiscovery {
  private readonly options: ClusterDiscoveryOptions;
  private version: number | null = null;
  private from: string | null = null;
  private lastError: MemcachedCacheError | null = null;
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(options: ClusterDiscoveryOptions) {
    this.options = options;
  }

  get status(): DiscoveryStatus {
    return { mode: this.options.mode, version: this.version, from: this.from, lastError: this.lastError };
  }

  /**
   * The first discovery: asks each configuration endpoint in turn until one gives a non-empty
   * list, applies it and starts polling. Rejects when none does, naming every endpoint: with
   * ConfigError when each answered but none gave a usable list, else ConnectionError.
   */
  async start(): Promise<DiscoveredServers> {
    const failures: Array<{ endpoint: string; error: MemcachedCacheError }> = [];
    for (const endpoint of this.options.endpoints) {
      try {
        const found = await this.discover(endpoint);
        if (found.servers.length === 0) throw emptyList(endpoint.id, found.version);
        this.accept(found);
        this.schedule();
        return found;
      } catch (error) {
        failures.push({ endpoint: endpoint.id, error: asCacheError(error, endpoint.id) });
      }
    }
    const list = failures.map((f) => `${f.endpoint} (${f.error.message})`).join('; ');
    const message = `auto_discovery '${this.options.mode}': no configuration endpoint gave a server list: ${list}`;
    const details = { autoDiscovery: this.options.mode, endpoints: failures.map((f) => f.endpoint) };
    const answeredAll = failures.every((f) => f.error instanceof ConfigError);
    throw answeredAll
      ? new ConfigError(message, { details, cause: failures[0]?.error })
      : new ConnectionError(message, { details, cause: failures[0]?.error });
  }

  /** Starts polling without a first discovery (for `discovery`: the client starts on its configured list). */
  startPolling(): void {
    if (this.timer === null) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One poll: the next candidate endpoint; an error moves on to the next candidate. */
  async poll(): Promise<void> {
    const candidates = this.candidates();
    const endpoint = candidates[this.next % candidates.length]!;
    try {
      const found = await this.discover(endpoint);
      if (this.stopped) return;
      this.lastError = null;
      this.accept(found);
    } catch (error) {
      this.lastError = asCacheError(error, endpoint.id);
      this.next = (this.next + 1) % candidates.length;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, this.options.intervalMs);
    // Discovery alone must not keep a process alive.
    this.timer.unref();
  }

  private accept(found: DiscoveredServers): void {
    if (found.servers.length === 0) return; // an empty list is ignored: the last good one stays
    if (found.version !== null && this.version !== null && found.version <= this.version) return;
    this.version = found.version;
    this.from = found.from;
    // A node listed twice is one server (setServers refuses duplicates).
    const unique = new Map(found.servers.map((server) => [server.id, server]));
    this.options.apply({ ...found, servers: [...unique.values()] });
  }

  /** The configuration endpoints first, then the known data servers not among them. */
  private candidates(): ServerEndpoint[] {
    const list = [...this.options.endpoints];
    if (this.options.mode === 'dns' || this.options.mode === 'discovery') return list;
    const seen = new Set(list.map((e) => e.id));
    for (const server of this.options.known()) if (!seen.has(server.id)) list.push(server);
    return list;
  }

  private async discover(endpoint: ServerEndpoint): Promise<DiscoveredServers> {
    const { mode, timeoutMs } = this.options;
    if (mode === 'discovery') {
      const servers = await bounded(this.options.fetch!(), timeoutMs, 'the discovery service');
      return { servers, version: null, from: 'discovery' };
    }
    if (mode === 'dns') {
      const addresses = await bounded(resolveAddresses(endpoint.host), timeoutMs, `DNS for ${endpoint.host}`);
      return {
        servers: addresses.map((address) =>
          nodeEndpoint(endpoint, { host: endpoint.host, address, port: endpoint.port }),
        ),
        version: null,
        from: endpoint.id,
      };
    }
    const body = await fetchClusterConfig(endpoint, COMMANDS[mode], timeoutMs);
    let config: ReturnType<typeof parseClusterConfig>;
    try {
      config = parseClusterConfig(body);
    } catch (error) {
      throw new ConfigError(`${endpoint.id}: ${(error as Error).message}`, { server: endpoint.id });
    }
    return {
      servers: config.nodes.map((node) => nodeEndpoint(endpoint, node)),
      version: config.version,
      from: endpoint.id,
    };
  }
}

/**
 * A discovered node's endpoint: its address and port, with the configuration endpoint's TLS and
 * credentials (a cluster's nodes share them). Over TLS the certificate is checked against the
 * node's DNS name, not the IP connected to.
 */
function nodeEndpoint(config: ServerEndpoint, node: ClusterNode): ServerEndpoint {
  const endpoint: ServerEndpoint = {
    id: serverId(node.address, node.port),
    host: node.address,
    port: node.port,
  };
  if (config.tls) {
    endpoint.tls = { ...config.tls };
    if (net.isIP(node.host) === 0) endpoint.tls.servername = node.host;
  }
  if (config.username !== undefined) {
    endpoint.username = config.username;
    endpoint.password = config.password ?? '';
  }
  return endpoint;
}

/** `promise`, or TimeoutError after `timeoutMs` (a hung resolver must not stop discovery). */
async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`${what} gave no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function emptyList(endpoint: string, version: number | null): ConfigError {
  const which = version === null ? '' : ` (version ${version})`;
  return new ConfigError(`${endpoint} gave an empty server list${which}`, { server: endpoint });
}

function asCacheError(error: unknown, endpoint: string): MemcachedCacheError {
  if (error instanceof MemcachedCacheError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${endpoint}: ${reason}`, { server: endpoint, cause: error });
}
