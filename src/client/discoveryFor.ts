import { ClusterDiscovery, type TopologyHealth } from '../topology/ClusterDiscovery.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import type { ResolvedClientOptions } from './ClientOptions.js';

/**
 * The discovery a client's options ask for (null for a fixed list): `autoDiscovery` asks its
 * `servers`; `discoverServers` is polled while the client starts on its `servers`.
 */
export function discoveryFor(
  options: ResolvedClientOptions,
  client: {
    known: () => readonly ServerEndpoint[];
    apply: (servers: ServerEndpoint[], change: { source: string; version?: number }) => void;
    health: () => TopologyHealth;
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
    maxServers: options.discoveryMaxServers,
    known: client.known,
    health: client.health,
    apply: (found) =>
      client.apply(found.servers, {
        source: mode,
        ...(found.version === null ? {} : { version: found.version }),
      }),
  });
}
