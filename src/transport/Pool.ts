import { ConnectionError } from '../component/errors.js';
import { Connection, type ConnectionOptions } from './Connection.js';
import { type Request, rejectRequest, sendRequest } from './Request.js';
import type { ServerEndpoint } from './ServerEndpoint.js';

export interface PoolOptions extends ConnectionOptions {
  /** Most connections to this server (`pool_size`). */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (`idle`); 0 disables. */
  idleTimeoutMs: number;
  /**
   * A new connection is opened only when every open one already has this many requests in
   * flight: pipelining makes one socket enough for small requests, and fewer sockets mean
   * bigger writes.
   */
  pipelineDepth?: number;
}

/**
 * One pipelined socket carries hundreds of small requests per write; a second one halves the
 * batch per syscall (measured: ~15% fewer gets/s at 100 in flight). So another connection is
 * opened only for a really deep queue or a write backlog (large values).
 */
const DEFAULT_PIPELINE_DEPTH = 1024;
const WRITE_BACKLOG_BYTES = 1024 * 1024;

/** The longest pause between reconnection attempts after consecutive connect failures. */
const MAX_BACKOFF_MS = 1000;

/**
 * Up to `maxConnections` pipelined connections to one server. Requests go to the least busy
 * connection; a connection that failed is dropped and replaced on demand, with exponential
 * backoff after consecutive connect failures; idle connections are closed by a sweep.
 */
export class Pool {
  readonly endpoint: ServerEndpoint;
  private readonly options: PoolOptions;
  private readonly connections: Connection[] = [];
  private readonly pipelineDepth: number;
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private connectFailures = 0;
  /** Why the last connection attempt failed: named in the fast-fail error, so the real cause (e.g. refused credentials) is not hidden. */
  private lastConnectError: Error | null = null;
  private nextConnectAt = 0;
  /** Connections ever opened: lets tests and stats see reconnects. */
  opened = 0;

  constructor(endpoint: ServerEndpoint, options: PoolOptions) {
    this.endpoint = endpoint;
    this.options = options;
    this.pipelineDepth = options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH;
  }

  get size(): number {
    return this.connections.length;
  }

  get inflight(): number {
    let total = 0;
    for (const connection of this.connections) total += connection.inflight;
    return total;
  }

  /** Sends a request on the least busy connection, opening one if that is warranted. */
  send<T>(request: Request, signal?: AbortSignal): Promise<T> {
    return sendRequest<T>(request, signal, this.endpoint.id, (r) => this.dispatch(r));
  }

  /** Like `send`, for a request whose listener is already set (the client's hot path). */
  dispatch(request: Request): void {
    const connection = this.acquire();
    if (connection !== null) {
      connection.dispatch(request);
      return;
    }
    rejectRequest(
      request,
      new ConnectionError(
        `Server ${this.endpoint.id} is refusing connections; next attempt in ${this.nextConnectAt - Date.now()} ms` +
          (this.lastConnectError ? ` (last attempt: ${this.lastConnectError.message})` : ''),
        {
          server: this.endpoint.id,
          cause: this.lastConnectError ?? undefined,
          key: request.key,
          details: { requestSent: false },
        },
      ),
    );
  }

  /** Opens one connection and waits for its handshake (used by `open()` to verify a server). */
  async connect(): Promise<Connection> {
    const connection = this.acquire(true);
    if (connection === null)
      throw new ConnectionError(`Pool for ${this.endpoint.id} is closed`, { server: this.endpoint.id });
    await connection.ready;
    return connection;
  }

  /** Closes every connection but stays usable (e.g. when the server was ejected). */
  closeConnections(): void {
    for (const connection of this.connections.splice(0)) connection.close();
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const connection of this.connections.splice(0)) connection.close();
  }

  private acquire(forceOpen = false): Connection | null {
    if (this.closed) return null;
    let best: Connection | null = null;
    for (const connection of this.connections) {
      if (best === null || connection.inflight < best.inflight) best = connection;
    }
    const busy =
      best !== null && (best.inflight >= this.pipelineDepth || best.bufferedBytes >= WRITE_BACKLOG_BYTES);
    const wantMore =
      best === null || forceOpen || (busy && this.connections.length < this.options.maxConnections);
    if (wantMore) {
      if (Date.now() < this.nextConnectAt && best === null) return null;
      if (best === null || Date.now() >= this.nextConnectAt) return this.open();
    }
    return best;
  }

  private open(): Connection {
    const connection = new Connection(this.endpoint, this.options);
    this.opened++;
    this.connections.push(connection);
    connection.onClose((closed) => this.remove(closed));
    connection.ready.then(
      () => {
        this.connectFailures = 0;
        this.lastConnectError = null;
        this.nextConnectAt = 0;
      },
      (error: unknown) => {
        this.lastConnectError = error instanceof Error ? error : new Error(String(error));
        this.connectFailures++;
        this.nextConnectAt =
          Date.now() + Math.min(MAX_BACKOFF_MS, 25 * 2 ** Math.min(this.connectFailures, 10));
      },
    );
    this.ensureSweep();
    return connection;
  }

  private remove(connection: Connection): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
  }

  private ensureSweep(): void {
    const idle = this.options.idleTimeoutMs;
    if (idle <= 0 || this.sweepTimer !== null) return;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.min(idle / 2, 1000)));
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const connection of [...this.connections]) {
      if (connection.inflight === 0 && connection.lastActive <= cutoff) connection.close();
    }
    if (this.connections.length === 0 && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }
}
