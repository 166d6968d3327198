import { UnsupportedServerError } from '../component/errors.js';
import { metaNoop, versionCommand } from '../protocol/RequestEncoder.js';
import { dial } from './dial.js';
import type { ServerEndpoint } from './ServerEndpoint.js';

/**
 * Whether `endpoint` answers `version` and then hangs up on the meta command `mn` without a
 * reply — what twemproxy does to every meta command — checked on a fresh connection of its own,
 * and then whether it still answers `version` on another one.
 *
 * A handshake that saw exactly that may also have met a memcached going away between the two
 * commands (a shutdown, a crash, a SIGKILL on a loaded machine, where the kernel closes the dying
 * process's sockets one by one): such a server refuses or does not answer a new connection, or
 * answers `mn` once it is back, and this resolves false. A proxy hangs up and answers again, every
 * time. Resolves false too on any error or when `timeoutMs` passes without a verdict. Sends nothing
 * but `version` and `mn`. `signal` ends the check at once (its socket closed), resolving false:
 * the connection it was for was closed meanwhile, and a closed client leaves no socket behind.
 */
export async function hangsUpOnMeta(
  endpoint: ServerEndpoint,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  if ((await versionThen(endpoint, true, timeoutMs, signal)) !== 'hung up') return false;
  return (await versionThen(endpoint, false, deadline - Date.now(), signal)) === 'answered';
}

type ProbeVerdict = 'answered' | 'hung up' | 'no verdict';

/**
 * On a fresh connection: `version`, then, once answered by a single VERSION line, `mn` when
 * `thenMeta`. 'answered' when the last command sent got any reply, 'hung up' when the connection
 * closed after `mn` without one, 'no verdict' on anything else (refused, an error, an odd reply, no
 * answer within `timeoutMs`, `signal` aborted).
 */
function versionThen(
  endpoint: ServerEndpoint,
  thenMeta: boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProbeVerdict> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('no verdict');
    let received = '';
    let sentMeta = false;
    let settled = false;
    const finish = (verdict: ProbeVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      socket.destroy();
      resolve(verdict);
    };
    const socket = dial(endpoint, (chunk) => {
      // Anything after `mn` is an answer to it: not a hang-up.
      if (sentMeta) return finish('answered');
      received += chunk.toString('latin1');
      if (!received.includes('\r\n')) return;
      if (!received.startsWith('VERSION ') || received.indexOf('\r\n') !== received.length - 2)
        return finish('no verdict');
      if (!thenMeta) return finish('answered');
      sentMeta = true;
      socket.write(metaNoop());
    });
    const timer = setTimeout(() => finish('no verdict'), Math.max(0, timeoutMs));
    const abort = (): void => finish('no verdict');
    signal.addEventListener('abort', abort, { once: true });
    socket.on('error', () => finish('no verdict'));
    socket.on('close', () => finish(sentMeta ? 'hung up' : 'no verdict'));
    socket.write(versionCommand());
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
