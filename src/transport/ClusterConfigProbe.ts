import { ConfigError, ConnectionError, TimeoutError } from '../component/errors.js';
import {
  type ClusterConfigCommand,
  clusterConfigRequest,
  readClusterConfigReply,
} from '../protocol/ClusterConfig.js';
import { dial } from './dial.js';
import type { ServerEndpoint } from './ServerEndpoint.js';

/**
 * Asks one configuration endpoint for the cluster configuration on a socket of its own, then
 * closes it: discovery runs once per interval, and a connection of the data pools must not be
 * tied up by (or blamed for) a command that is not meta protocol. Resolves with the body;
 * rejects with ConnectionError (no connection, closed early), TimeoutError (no complete reply
 * within `timeoutMs`) or ConfigError (the server answered, but is not an ElastiCache-style
 * configuration endpoint, or announced a body longer than `maxBytes`, which is then not read).
 * Every error names the endpoint and the command.
 */
export function fetchClusterConfig(
  endpoint: ServerEndpoint,
  command: ClusterConfigCommand,
  timeoutMs: number,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const where = { server: endpoint.id, details: { command } };
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | null, body?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(body!);
    };
    const socket = dial(endpoint, (chunk) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const reply = readClusterConfigReply(received, maxBytes);
      if (reply.state === 'config') finish(null, reply.body);
      else if (reply.state === 'oversized')
        finish(
          new ConfigError(
            `${endpoint.id} announced a ${reply.length}-byte cluster configuration, more than the ${maxBytes} bytes a list within discoveryMaxServers (options.discovery_max_servers) can take: the list was not applied`,
            {
              ...where,
              details: {
                command,
                bytes: reply.length,
                maxBytes,
                option: 'discoveryMaxServers',
                configKey: 'options.discovery_max_servers',
              },
            },
          ),
        );
      else if (reply.state === 'missing')
        finish(
          new ConfigError(
            `${endpoint.id} holds no cluster configuration ('${command}' found nothing)`,
            where,
          ),
        );
      else if (reply.state === 'refused')
        finish(
          new ConfigError(
            `${endpoint.id} is not a cluster configuration endpoint: it answered '${reply.line}' to '${command}'`,
            where,
          ),
        );
    });
    const timer = setTimeout(
      () =>
        finish(new TimeoutError(`${endpoint.id} did not answer '${command}' within ${timeoutMs} ms`, where)),
      timeoutMs,
    );
    socket.on('error', (error) =>
      finish(
        new ConnectionError(`Cluster configuration endpoint ${endpoint.id} failed: ${error.message}`, {
          ...where,
          cause: error,
        }),
      ),
    );
    socket.on('close', () =>
      finish(
        new ConnectionError(`${endpoint.id} closed the connection before answering '${command}'`, where),
      ),
    );
    socket.write(clusterConfigRequest(command));
  });
}
