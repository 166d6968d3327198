import { UnsupportedServerError } from '../component/errors.js';
import { dial } from './dial.js';
import type { ServerEndpoint } from './ServerEndpoint.js';

/**
 * Whether `endpoint` answers `version` and then hangs up on the meta command `mn` without a
 * reply — what twemproxy does to every meta command — checked on a fresh connection of its own.
 *
 * A handshake that saw exactly that may also have met a memcached going away between the two
 * commands (a shutdown, a crash, a restart): such a server refuses or does not answer a new
 * connection, or answers `mn` once it is back, and this resolves false. Resolves false too on any
 * error or when `timeoutMs` passes without a verdict. Sends nothing but `version` and `mn`.
 */
export function hangsUpOnMeta(endpoint: ServerEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    let askedMeta = false;
    let settled = false;
    const finish = (verdict: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const socket = dial(endpoint, (chunk) => {
      // Anything after `mn` is an answer to it: not a hang-up.
      if (askedMeta) return finish(false);
      received += chunk.toString('latin1');
      if (!received.includes('\r\n')) return;
      if (!received.startsWith('VERSION ') || received.indexOf('\r\n') !== received.length - 2)
        return finish(false);
      askedMeta = true;
      socket.write('mn\r\n');
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(askedMeta));
    socket.write('version\r\n');
  });
}

/**
 * The server answered `version` but not the meta protocol: an old memcached, or — far more
 * likely today — a proxy (twemproxy closes the connection on any meta command, mcrouter answers
 * `mn` with an error). Not evidence against the server: it is reachable and well; the client is
 * configured for the wrong protocol.
 */
export function noMetaProtocol(serverId: string, version: string, what: string): UnsupportedServerError {
  return new UnsupportedServerError(
    `Server ${serverId} (version ${version || 'unknown'}) answered \`version\` but ${what}: it does not speak the meta protocol. memcached 1.6 or newer does; a proxy such as twemproxy or mcrouter does not — behind a proxy set protocol: 'text' (component option options.protocol=text)`,
    { server: serverId, details: { protocol: 'meta', version } },
  );
}
