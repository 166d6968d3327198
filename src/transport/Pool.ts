import {
  AuthenticationError,
  ConnectionError,
  type MemcachedCacheError,
  ServerError,
  UnsupportedServerError,
} from '../component/errors.js';
import { type Clock, systemClock } from './Clock.js';
import { Connection, type ConnectionOptions } from './Connection.js';

import { copyFor, failRequest, type Request } from './Request.js';
import type { ServerEndpoint } from './ServerEndpoint.js';
import { type ConnectTraceContext, connectTracing, describeServer, tracePromise } from './tracing.js';

/** What the pool needs of a connection: `Connection`, or a scripted one in tests. */
export interface PoolConnection {
  /** Resolves when the handshake succeeded; rejects with the reason it failed. */
  readonly ready: Promise<void>;
  /** Requests in its queue, including settled-but-unanswered ones. */
  readonly inflight: number;
  readonly isClosed: boolean;
  readonly isHandshakeDone: boolean;
  readonly serverVersion: string;
  /** Clock time of the last byte received (or of creation). */
  readonly lastActiveAt: number;
  /** Bytes accepted but not yet sent. */
  readonly bufferedBytes: number;
  /** Told once when it closes, with the user requests it never wrote. */
  onClose(
    listener: (
      connection: PoolConnection,
      error: MemcachedCacheError,
      evidence: boolean,
      unsent: Request[],
    ) => void,
  ): void;
  dispatch(request: Request): void;
  close(): void;
  closeWhenIdle(): void;
  /** Called each time its queue becomes empty: every request given to it was answered. */
  onIdle(listener: () => void): void;
}

/** Opens a connection to `endpoint` (a socket by default; scripted in test/transport). */
export type ConnectionFactory = (endpoint: ServerEndpoint, options: ConnectionOptions) => PoolConnection;

const openSocketConnection: ConnectionFactory = (endpoint, options) => new Connection(endpoint, options);

export interface PoolOptions extends ConnectionOptions {
  /** How connections are made; default: a real socket (`Connection`). */
  connectionFactory?: ConnectionFactory;
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
  /**
   * Told about each connection-level event that is evidence against the server: refused, reset,
   * closed with requests outstanding, connect timeout, stopped answering. Once per event, never
   * per request.
   */
  onServerFailure?: (error: MemcachedCacheError) => void;
  /**
   * Told each time a connection completed its handshake: the server is up. After the server was
   * judged too slow, only once a connection answered everything it was given (a slow server
   * still completes handshakes, which must not wipe out the evidence against it).
   */
  onServerReady?: () => void;
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
 * backoff after consecutive connect failures; idle connections are closed by a sweep. Requests
 * a failed connection never sent are handed to another open connection of the pool.
 */
export class Pool {
  readonly endpoint: ServerEndpoint;
  private readonly options: PoolOptions;
  private readonly clock: Clock;
  private readonly openConnection: ConnectionFactory;
  private readonly connections: PoolConnection[] = [];
  private readonly pipelineDepth: number;
  private sweepTimer: unknown = null;
  private closed = false;
  /** Removed from the membership: no new requests; those never written go to their key's new owner. */
  private draining = false;
  private drainTimer: unknown = null;
  /** Resolves the promise of drain() when the last socket closed. */
  private drained: (() => void) | null = null;
  private connectFailures = 0;
  /** Why the last connection attempt failed: named in the fast-fail error, so the real cause is not hidden. */
  private lastConnectError: Error | null = null;
  private nextConnectAt = 0;
  /**
   * Most connections for now: lowered to what the server accepted when it turned one away
   * (memcached's `-c` limit), restored when the backoff ends.
   */
  private connectionLimit: number;
  /** The last evidence against the server was slowness (see Pipeline): a handshake does not clear it. */
  private slowSuspected = false;

  constructor(endpoint: ServerEndpoint, options: PoolOptions) {
    this.endpoint = endpoint;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.openConnection = options.connectionFactory ?? openSocketConnection;
    this.pipelineDepth = options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH;
    this.connectionLimit = options.maxConnections;
  }

  get size(): number {
    return this.connections.length;
  }

  get inflight(): number {
    let total = 0;
    for (const connection of this.connections) total += connection.inflight;
    return total;
  }

  /** Sends a request (its listener already set) on the least busy connection, opening one if that is warranted. */
  dispatch(request: Request): void {
    if (this.draining) {
      this.rejectUnsent(request, this.movedError());
      return;
    }
    const connection = this.acquire();
    if (connection !== null) {
      connection.dispatch(request);
      return;
    }
    this.rejectUnsent(request, this.unreachableError());
  }

  /** Opens one connection and waits for its handshake (used by `open()` and probes to verify a server). */
  async connect(): Promise<PoolConnection> {
    const connection = this.acquire(true);
    if (connection === null) {
      if (this.closed)
        throw new ConnectionError(`Pool for ${this.endpoint.id} is closed`, { server: this.endpoint.id });
      throw this.unreachableError();
    }
    await connection.ready;
    return connection;
  }

  /** Closes every connection but stays usable (e.g. when the server was ejected). */
  closeConnections(): void {
    for (const connection of this.connections.splice(0)) connection.close();
  }

  /**
   * The server left the membership. New requests and those never written are handed back as
   * moved (the operation routes them again, to the key's new owner); requests already written
   * are answered; then, or after `request_timeout` at the most, every socket closes.
   */
  drain(): Promise<void> {
    this.draining = true;
    const drained = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    // Those done with their handshake close when their last reply arrives; one still in its
    // handshake holds requests that were never written, and closes now (they move).
    for (const connection of [...this.connections]) {
      if (connection.isHandshakeDone) connection.closeWhenIdle();
      else connection.close();
    }
    if (this.connections.length === 0) this.close();
    // A reply that never comes: its caller's deadline has passed by then.
    else this.drainTimer = this.clock.setTimer(() => this.close(), this.options.requestTimeoutMs);
    return drained;
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer !== null) this.clock.clearTimer(this.sweepTimer);
    this.sweepTimer = null;
    if (this.drainTimer !== null) this.clock.clearTimer(this.drainTimer);
    this.drainTimer = null;
    for (const connection of this.connections.splice(0)) connection.close();
    this.drained?.();
    this.drained = null;
  }

  private acquire(forceOpen = false): PoolConnection | null {
    if (this.closed) return null;
    // No clock read on the hot path: nextConnectAt is 0 unless a connect failed recently.
    const mayConnect = this.nextConnectAt === 0 || this.clock.now() >= this.nextConnectAt;
    if (mayConnect) this.connectionLimit = this.options.maxConnections;
    let best: PoolConnection | null = null;
    for (const connection of this.connections) {
      if (best === null || connection.inflight < best.inflight) best = connection;
    }
    const busy =
      best !== null && (best.inflight >= this.pipelineDepth || best.bufferedBytes >= WRITE_BACKLOG_BYTES);
    const wantMore = best === null || forceOpen || (busy && this.connections.length < this.connectionLimit);
    if (wantMore && mayConnect) return this.open();
    return best;
  }

  private open(): PoolConnection {
    const connection = connectTracing.hasSubscribers
      ? this.tracedConnection()
      : this.openConnection(this.endpoint, this.options);
    this.connections.push(connection);
    connection.onClose((closed, error, evidence, unsent) =>
      this.onConnectionClosed(closed, error, evidence, unsent),
    );
    connection.ready.then(
      () => {
        this.connectFailures = 0;
        this.lastConnectError = null;
        this.nextConnectAt = 0;
        if (!this.slowSuspected) this.options.onServerReady?.();
        else
          connection.onIdle(() => {
            if (!this.slowSuspected) return;
            this.slowSuspected = false;
            this.options.onServerReady?.();
          });
      },
      (error: unknown) => {
        this.lastConnectError = error instanceof Error ? error : new Error(String(error));
        this.connectFailures++;
        this.nextConnectAt =
          this.clock.now() + Math.min(MAX_BACKOFF_MS, 25 * 2 ** Math.min(this.connectFailures, 10));
      },
    );
    this.ensureSweep();
    return connection;
  }

  /** A new connection, its connect and handshake traced on `memcached-cache:connect`. */
  private tracedConnection(): PoolConnection {
    const endpoint = this.endpoint;
    const context = { tls: endpoint.tls !== undefined } as ConnectTraceContext;
    describeServer(context, endpoint);
    let connection: PoolConnection | undefined;
    tracePromise(connectTracing, context, () => {
      connection = this.openConnection(endpoint, this.options);
      return connection.ready;
    }).catch(() => {}); // the pool observes `ready` itself
    return connection!;
  }

  private onConnectionClosed(
    connection: PoolConnection,
    error: MemcachedCacheError,
    evidence: boolean,
    unsent: Request[],
  ): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
    const serving = this.readyConnection();
    // memcached turned this connection away (`-c`): the server works, it just will not take
    // more sockets. Stay at what it accepted and serve from there; only a server that accepts
    // none is failing.
    const refused = error instanceof ServerError && error.details?.refused === true;
    if (refused && serving !== null) {
      this.connectionLimit = Math.max(1, this.connections.length);
    } else if (evidence) {
      if (error.details?.slow === true) this.slowSuspected = true;
      this.options.onServerFailure?.(error);
    }
    for (const request of unsent) {
      if (request.settled) continue;
      const target = this.closed || this.draining ? null : this.readyConnection();
      if (target !== null) target.dispatch(request);
      else this.rejectUnsent(request, this.draining ? this.movedError() : error);
    }
    if (this.draining && !this.closed && this.connections.length === 0) this.close();
  }

  /** The least busy connection that finished its handshake, if any. */
  private readyConnection(): PoolConnection | null {
    let best: PoolConnection | null = null;
    for (const connection of this.connections) {
      if (!connection.isHandshakeDone || connection.isClosed) continue;
      if (best === null || connection.inflight < best.inflight) best = connection;
    }
    return best;
  }

  private rejectUnsent(request: Request, error: MemcachedCacheError): void {
    if (!request.settled) failRequest(request, copyFor(error, request.key, true));
  }

  /** A request this pool will not send because its server left the membership. */
  private movedError(): ConnectionError {
    return new ConnectionError(
      `Server ${this.endpoint.id} left the membership; the request goes to its new owner`,
      {
        server: this.endpoint.id,
        details: { requestSent: false, moved: true },
      },
    );
  }

  private unreachableError(): MemcachedCacheError {
    const wait = Math.max(0, Math.round(this.nextConnectAt - this.clock.now()));
    const last = this.lastConnectError;
    // The server was reached and said no (wrong protocol, bad credentials): say that again, with
    // its class and code, rather than "cannot connect" — waiting will not change the answer.
    if (last instanceof UnsupportedServerError || last instanceof AuthenticationError)
      return copyFor(last, undefined, true);
    return new ConnectionError(
      `Cannot connect to ${this.endpoint.id}: ${last ? `the last attempt failed (${last.message})` : 'no connection'}; next attempt in ${wait} ms`,
      { server: this.endpoint.id, cause: last ?? undefined, details: { requestSent: false } },
    );
  }

  private ensureSweep(): void {
    const idle = this.options.idleTimeoutMs;
    if (idle <= 0 || this.sweepTimer !== null || this.closed) return;
    // The clock's timers never keep the process alive.
    this.sweepTimer = this.clock.setTimer(() => this.sweep(), Math.max(10, Math.min(idle / 2, 1000)));
  }

  /** Closes connections idle for `idle`; one with requests in its queue is busy, however quiet. */
  private sweep(): void {
    this.sweepTimer = null;
    const cutoff = this.clock.now() - this.options.idleTimeoutMs;
    for (const connection of [...this.connections]) {
      if (connection.inflight === 0 && connection.lastActiveAt <= cutoff) connection.close();
    }
    if (this.connections.length > 0) this.ensureSweep();
  }
}
