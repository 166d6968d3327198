// A slow server for tests: a TCP proxy on a free loopback port in front of a real memcached.
// Requests pass at once; replies come back one byte every `intervalMs` — memcached answers, the
// client just cannot get the answers in time. Not memcached itself: a stand-in for a slow link
// or an overloaded server. Optionally the first `fastBytes` of each connection pass at full
// speed (a server whose handshake is quick and whose replies then slow down).
import net from 'node:net';
import type { MemcachedProcess } from './memcached.js';

export interface TrickleOptions {
  /** Milliseconds between two reply bytes (default 100). */
  intervalMs?: number;
  /** Reply bytes of each connection passed at full speed before the trickle starts (default 0). */
  fastBytes?: number;
}

export class TrickleProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Client connections accepted so far. */
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: net.Server,
    private readonly target: MemcachedProcess,
    private readonly options: Required<TrickleOptions>,
  ) {}

  static async start(target: MemcachedProcess, options: TrickleOptions = {}): Promise<TrickleProxy> {
    const server = net.createServer();
    const proxy = new TrickleProxy(server, target, { intervalMs: 100, fastBytes: 0, ...options });
    server.on('connection', (socket) => proxy.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (server.address() as net.AddressInfo).port;
    return proxy;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Reply bytes memcached sent that the proxy holds back, over every connection. */
  get heldBytes(): number {
    let total = 0;
    for (const socket of this.sockets) total += (socket as TrickledSocket).held?.length ?? 0;
    return total;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(client: TrickledSocket): void {
    this.connections++;
    this.sockets.add(client);
    client.held = Buffer.alloc(0);
    let fast = this.options.fastBytes;
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    const timer = setInterval(() => {
      if (client.held!.length === 0 || client.destroyed) return;
      client.write(client.held!.subarray(0, 1));
      client.held = client.held!.subarray(1);
    }, this.options.intervalMs);
    this.timers.add(timer);
    const end = (): void => {
      clearInterval(timer);
      this.timers.delete(timer);
      this.sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (fast > 0) {
        const now = chunk.subarray(0, fast);
        fast -= now.length;
        client.write(now);
        chunk = chunk.subarray(now.length);
      }
      if (chunk.length > 0) client.held = Buffer.concat([client.held!, chunk]);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }
}

type TrickledSocket = net.Socket & { held?: Buffer };
