import { Topology } from '../topology/Topology.js';
import type { Clock } from '../transport/Clock.js';
import { Pool } from '../transport/Pool.js';
import type { ResolvedClientOptions } from './ClientOptions.js';

/**
 * The topology a client's options describe: its servers (none yet for an auto-discovered
 * cluster: connect() performs the first discovery), health rules, outage record, and pools.
 */
export function topologyFor(resolved: ResolvedClientOptions, clock: Clock): Topology {
  const servers = resolved.autoDiscovery === undefined ? resolved.servers : [];
  return new Topology({
    servers,
    failures: resolved.failures,
    retryMs: resolved.retryMs,
    ...(resolved.selector ? { selector: resolved.selector } : {}),
    // Behind proxies (the text protocol's use) the servers are fronts of one pool, not shards.
    interchangeable: resolved.protocol === 'text',
    outageRecordSize: resolved.outageRecordSize,
    failoverTtlSeconds: Math.ceil(resolved.failoverTtlMs / 1000),
    clock,
    makePool: (endpoint, events) =>
      new Pool(endpoint, {
        maxConnections: resolved.poolSize,
        idleTimeoutMs: resolved.idleTimeoutMs,
        connectTimeoutMs: resolved.connectTimeoutMs,
        requestTimeoutMs: resolved.requestTimeoutMs,
        // Replies are read up to max_value (at least 1 MB, memcached's default item size) plus
        // 1 KB of slack; a bigger value fails only its own read.
        maxValueBytes: Math.max(resolved.maxValueSize, 1024 * 1024) + 1024,
        clock,
        protocol: resolved.protocol,
        onServerFailure: events.onServerFailure,
        onServerReady: events.onServerReady,
      }),
  });
}
