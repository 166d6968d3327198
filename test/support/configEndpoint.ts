// A stand-in for an AWS ElastiCache / Google Memorystore configuration endpoint: a TCP server on
// a free loopback port that answers `config get cluster` in the documented format
//
//     CONFIG cluster 0 <bytes>\r\n<version>\n<host>|<ip>|<port> …\n\r\nEND\r\n
//
// and `ERROR` to anything else. It is not memcached (the data servers of the tests are real
// memcached processes); memcached itself does not implement `config get cluster`.
import net from 'node:net';
import type { MemcachedProcess } from './memcached.js';

export interface ConfigNode {
  host: string;
  ip: string;
  port: number;
}

export class ConfigEndpoint {
  readonly host = '127.0.0.1';
  /** `config get cluster` requests answered so far. */
  requests = 0;
  private body = '0\n\n';
  /** When true, requests are read and never answered. */
  silent = false;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(): Promise<ConfigEndpoint> {
    const server = net.createServer();
    const endpoint = new ConfigEndpoint(server);
    server.on('connection', (socket) => endpoint.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return endpoint;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** `127.0.0.1:PORT`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Serves `version` with these nodes from now on (an empty list is allowed, as ElastiCache can). */
  publish(version: number, nodes: ReadonlyArray<ConfigNode | MemcachedProcess>): void {
    this.body = clusterConfigBody(version, nodes);
  }

  /** Stops listening and drops every connection. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let eol = pending.indexOf('\r\n'); eol >= 0; eol = pending.indexOf('\r\n')) {
        const line = pending.slice(0, eol);
        pending = pending.slice(eol + 2);
        if (this.silent) continue;
        if (line === 'config get cluster') {
          this.requests++;
          socket.write(`CONFIG cluster 0 ${Buffer.byteLength(this.body)}\r\n${this.body}\r\nEND\r\n`);
        } else socket.write('ERROR\r\n');
      }
    });
  }
}

/** The configuration body: `<version>\n<host>|<ip>|<port> …\n`. A memcached process is `localhost|127.0.0.1|port`. */
export function clusterConfigBody(
  version: number,
  nodes: ReadonlyArray<ConfigNode | MemcachedProcess>,
): string {
  const list = nodes.map((n) =>
    'pid' in n ? `localhost|${n.host}|${n.port}` : `${n.host}|${n.ip}|${n.port}`,
  );
  return `${version}\n${list.join(' ')}\n`;
}
