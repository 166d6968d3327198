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
