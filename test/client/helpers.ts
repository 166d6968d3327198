// Shared helpers for the client suites (not a test file itself).
import net from 'node:net';
import type { MemcachedClientOptions } from '../../src/client/ClientOptions.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import type { ServerEndpoint } from '../../src/transport/ServerEndpoint.js';
import type { MemcachedProcess } from '../support/index.js';

export function endpointOf(p: MemcachedProcess): ServerEndpoint {
  if (p.socketPath) return { id: p.socketPath, host: '', port: 0, socketPath: p.socketPath };
  return { id: p.address, host: p.host, port: p.port };
}

/** Every client made here is closed by `closeAll()` (call it in `after`). */
const clients = new Set<MemcachedClient>();

export function makeClient(
  servers: MemcachedProcess[] | ServerEndpoint[],
  options: Omit<MemcachedClientOptions, 'servers'> = {},
): MemcachedClient {
  const endpoints = servers.map((s) => ('pid' in s ? endpointOf(s) : s));
  const client = new MemcachedClient({ ...options, servers: endpoints });
  clients.add(client);
  return client;
}

export function closeAll(): void {
  for (const client of clients) client.close();
  clients.clear();
}

/** Polls a condition until it holds or a deadline passes (test/support/events.ts). */
export { waitFor } from '../support/events.js';

/** Races `promise` against a timer; rejects with `label` when it does not settle in time. */
export async function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds `promise` takes to settle, and how it settled. */
export async function timed<T>(
  promise: Promise<T>,
): Promise<{ ms: number; value?: T; error?: unknown; ok: boolean }> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, value, ok: true };
  } catch (error) {
    return { ms: performance.now() - start, error, ok: false };
  }
}

/**
 * A tiny line-oriented TCP peer (NOT memcached): `answer` is called for each request line the
 * client sends and returns what to write back (or null for nothing). Records every line.
 */
export interface FakePeer {
  port: number;
  lines: string[];
  connections: number;
  close(): Promise<void>;
}

export function startFakePeer(
  answer: (line: string, socket: net.Socket) => string | Buffer | null,
): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  const peer: FakePeer = { port: 0, lines: [], connections: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    peer.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let nl = pending.indexOf('\r\n'); nl !== -1; nl = pending.indexOf('\r\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        peer.lines.push(line);
        const reply = answer(line, socket);
        if (reply !== null && !socket.destroyed) socket.write(reply);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      peer.port = (server.address() as net.AddressInfo).port;
      peer.close = () =>
        new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        });
      resolve(peer);
    });
  });
}

export function fakeEndpoint(peer: FakePeer): ServerEndpoint {
  return { id: `127.0.0.1:${peer.port}`, host: '127.0.0.1', port: peer.port };
}

/** SIGSTOPs a server and waits until it is really stopped (see MemcachedProcess.pauseAndWait). */
export function pauseAndWait(server: MemcachedProcess, timeoutMs = 2000): Promise<void> {
  return server.pauseAndWait(timeoutMs);
}

/** What `verifiedLoad` saw: calls made, misses, failed calls (key: error) and keys read wrong. */
export interface LoadOutcome {
  calls: number;
  misses: number;
  failures: string[];
  wrong: string[];
}

/**
 * `workers` loops of `set` then `get` of a fresh key with its own value, until `stop()`, which
 * resolves once every worker has finished. A miss is a key whose server changed between its set
 * and its get; a value other than the one written is wrong.
 */
export function verifiedLoad(
  client: MemcachedClient,
  prefix: string,
  workers = 20,
): { stop(): Promise<LoadOutcome> } {
  let stopped = false;
  const outcome: LoadOutcome = { calls: 0, misses: 0, failures: [], wrong: [] };
  const worker = async (w: number): Promise<void> => {
    // A closed client fails every call at once: without the check (and the yield after a
    // failure) a test that failed before stop() would spin here and starve its own teardown.
    for (let i = 0; !stopped && !client.isClosed; i++) {
      const key = `${prefix}:${w}:${i}`;
      const value = `${w}/${i}`;
      try {
        await client.set(key, value);
        const item = await client.get(key);
        outcome.calls += 2;
        if (item === null) outcome.misses++;
        else if (item.value.toString() !== value) outcome.wrong.push(key);
      } catch (error) {
        outcome.failures.push(`${key}: ${String(error)}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  const running = Array.from({ length: workers }, (_, w) => worker(w));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(running);
      return outcome;
    },
  };
}
