import net from 'node:net';
import { serverId } from '../cluster/ServerSelector.js';
import { ConfigError, TimeoutError } from '../component/errors.js';
import {
  type ClusterConfigCommand,
  type ClusterNode,
  maxClusterConfigBytes,
  parseClusterConfig,
} from '../protocol/ClusterConfig.js';
import { fetchClusterConfig } from '../transport/ClusterConfigProbe.js';
import { resolveAddresses } from '../transport/dial.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';

// Where a discovered server list comes from, and how one list is fetched from there. Which list
// is applied, who is asked and when: ClusterDiscovery.

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

/** What fetching a list needs besides the source: its bounds, and a caller's `discoverServers`. */
export interface ServerListFetchOptions {
  /** For `discovery`: returns the current server list. */
  fetch?: () => Promise<ServerEndpoint[]>;
  /** Longest one attempt may take. */
  timeoutMs: number;
  /** Most servers a list may hold: bounds the bytes read of a cluster configuration. */
  maxServers: number;
}

const COMMANDS: Record<Exclude<AutoDiscoveryMode, 'dns'>, ClusterConfigCommand> = {
  elasticache: 'config get cluster',
  elasticache_legacy: 'get AmazonElastiCache:cluster',
};

/** One server list from `endpoint` (unused for `discovery`), fetched as `mode` says. */
export async function fetchServerList(
  mode: DiscoverySource,
  endpoint: ServerEndpoint,
  options: ServerListFetchOptions,
): Promise<DiscoveredServers> {
  const { timeoutMs } = options;
  if (mode === 'discovery') {
    const servers = await bounded(options.fetch!(), timeoutMs, 'the discovery service');
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
  const maxBytes = maxClusterConfigBytes(options.maxServers);
  const body = await fetchClusterConfig(endpoint, COMMANDS[mode], timeoutMs, maxBytes);
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
