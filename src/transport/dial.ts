import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionError } from '../component/errors.js';
import type { ServerEndpoint } from './ServerEndpoint.js';

/**
 * A TLS socket to `endpoint`; decrypted chunks arrive as 'data' events. The certificate is
 * checked against the endpoint's DNS name unless the TLS options name another (`servername`).
 */
export function openTlsSocket(endpoint: ServerEndpoint, onData: (chunk: Buffer) => void): net.Socket {
  const options: tls.ConnectionOptions = { ...endpoint.tls };
  if (endpoint.socketPath) options.path = endpoint.socketPath;
  else {
    options.host = endpoint.host;
    options.port = endpoint.port;
    if (options.servername === undefined && net.isIP(endpoint.host) === 0) options.servername = endpoint.host;
  }
  const socket = tls.connect(options);
  socket.on('data', onData);
  return socket;
}

/** A plain or TLS socket to `endpoint` (as its settings say), delivering chunks to `onData`. */
export function dial(endpoint: ServerEndpoint, onData: (chunk: Buffer) => void): net.Socket {
  if (endpoint.tls) return openTlsSocket(endpoint, onData);
  const socket = endpoint.socketPath
    ? net.connect({ path: endpoint.socketPath })
    : net.connect({ host: endpoint.host, port: endpoint.port });
  socket.on('data', onData);
  return socket;
}

/**
 * Every address `host` has, sorted: DNS A and AAAA records (queried on the network, as a
 * Kubernetes headless service publishes its pods), or, when DNS has none, what the system
 * resolver gives (/etc/hosts, search domains). Rejects with ConnectionError when the name has no
 * address. No deadline of its own: the caller bounds it.
 */
export async function resolveAddresses(host: string): Promise<string[]> {
  if (net.isIP(host) !== 0) return [host];
  const [v4, v6] = await Promise.allSettled([dns.promises.resolve4(host), dns.promises.resolve6(host)]);
  let addresses = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (addresses.length === 0) {
    try {
      addresses = (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'no address';
      throw new ConnectionError(`DNS name ${host} has no address (${code})`, { server: host, cause: error });
    }
  }
  return [...new Set(addresses)].sort();
}
