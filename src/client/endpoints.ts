import { serverId } from '../cluster/ServerSelector.js';
import { type ParsedServer, parseServerUri } from '../component/ServerList.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';

/** What the configuration adds to a parsed endpoint: credentials and TLS settings. */
export interface EndpointExtras {
  username?: string | null;
  password?: string | null;
  /** TLS options for an endpoint that asked for TLS (`memcacheds://`, `protocol: memcacheds`). */
  tls?: () => NonNullable<ServerEndpoint['tls']>;
}

/**
 * The transport endpoint for a parsed one. User info in the URI wins over `extras` credentials;
 * the id is the name routing and errors use (`host:port` or the socket path).
 */
export function toTransportEndpoint(parsed: ParsedServer, extras: EndpointExtras = {}): ServerEndpoint {
  const endpoint: ServerEndpoint = {
    id: parsed.socketPath ?? serverId(parsed.host, parsed.port),
    host: parsed.host,
    port: parsed.port,
  };
  if (parsed.socketPath !== undefined) endpoint.socketPath = parsed.socketPath;
  const username = parsed.username ?? extras.username ?? undefined;
  if (username) {
    endpoint.username = username;
    endpoint.password = parsed.password ?? extras.password ?? '';
  }
  if (parsed.tls) endpoint.tls = extras.tls ? extras.tls() : {};
  return endpoint;
}

/**
 * Transport endpoints from a server list: `host:port,host2:port2`, `memcached://…`,
 * `memcacheds://…` (TLS), `memcached://user:pass@host:port`, `unix:///path`. A bad list throws a
 * ConfigError naming `option`.
 */
export function endpointsFromServerList(servers: string, option = 'servers'): ServerEndpoint[] {
  return parseServerUri(servers, option).map((e) => toTransportEndpoint(e));
}
