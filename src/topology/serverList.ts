// A server list as the topology takes it: each endpoint checked (what the ring and the pools rely
// on) with its password hidden, and what the ring needs of one.

import type { ServerSpec } from '../cluster/ServerSelector.js';
import { ConfigError } from '../component/errors.js';
import { type ServerEndpoint, withHiddenPassword } from '../transport/ServerEndpoint.js';

/** A weight beyond this would give one server millions of ketama points: a typo, not a plan. */
const MAX_WEIGHT = 10_000;

/** Where a list of endpoints usually comes from, named in the errors about one. */
const HOW_TO_BUILD = "endpointsFromServerList('host:port,…') builds endpoints";

/**
 * Checks each endpoint of a server list and hides its password; throws ConfigError naming the
 * entry and what is wrong with it. `what` names the list in the message.
 */
export function checkedServers(servers: readonly ServerEndpoint[], what: string): ServerEndpoint[] {
  if (!Array.isArray(servers)) throw new ConfigError(`${what} must be an array of server endpoints`);
  const ids = new Set<string>();
  return servers.map((endpoint, i) => {
    const entry = `${what} entry ${i}`;
    if (endpoint === null || typeof endpoint !== 'object')
      throw new ConfigError(`${entry} is not a server endpoint (${HOW_TO_BUILD})`, { details: { entry: i } });
    if (typeof endpoint.id !== 'string' || endpoint.id === '')
      throw new ConfigError(
        `${entry} has no id: a server endpoint needs a non-empty string id, the name keys are routed by (${HOW_TO_BUILD}, each with id host:port)`,
        { details: { entry: i } },
      );
    const weight = endpoint.weight;
    if (weight !== undefined && (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT))
      throw new ConfigError(
        `${entry} (${endpoint.id}): weight must be a whole number from 0 to ${MAX_WEIGHT}, got ${String(weight)}`,
        { server: endpoint.id, details: { entry: i } },
      );
    if (ids.has(endpoint.id))
      throw new ConfigError(`${entry} (${endpoint.id}) is listed twice`, {
        server: endpoint.id,
        details: { entry: i },
      });
    ids.add(endpoint.id);
    return withHiddenPassword(endpoint);
  });
}

/** What the router needs of an endpoint. */
export function serverSpec(endpoint: ServerEndpoint): ServerSpec {
  return {
    id: endpoint.id,
    host: endpoint.socketPath ?? endpoint.host,
    port: endpoint.socketPath ? 0 : endpoint.port,
    weight: endpoint.weight ?? 1,
  };
}
