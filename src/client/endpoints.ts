import { serverId } from '../cluster/ServerSelector.js';
import { parseServerUri } from '../component/ServerEndpoint.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';

/**
 * Transport endpoints from a server list: `host:port,host2:port2`, `memcached://…`,
 * `memcacheds://…` (TLS), `memcached://user:pass@host:port`, `unix:///path`. A bad list throws a
 * ConfigError naming `option`.
 */
export function endpointsFromServerList(servers: string, option = 'servers'): ServerEndpoint[] {
  return parseServerUri(servers, option).map((e) => {
    const endpoint: ServerEndpoint = {
      id: e.socketPath ?? serverId(e.host, e.port),
      host: e.host,
      port: e.port,
    };
    if (e.socketPath !== undefined) endpoint.socketPath = e.socketPath;
    if (e.tls) endpoint.tls = {};
    if (e.username !== undefined) {
      endpoint.username = e.username;
      endpoint.password = e.password ?? '';
    }
    return endpoint;
  });
}
