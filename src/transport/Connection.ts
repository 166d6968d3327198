import net from 'node:net';
import { ConnectionError, type MemcachedCacheError, TimeoutError } from '../component/errors.js';
import { RequestKind } from '../protocol/ReplyCollector.js';
import { authenticationCommand, metaNoop, versionCommand } from '../protocol/RequestEncoder.js';
import { ResponseParser } from '../protocol/ResponseParser.js';
import { TextResponseParser } from '../protocol/TextResponseParser.js';
import { type Clock, systemClock } from './Clock.js';
import { openTlsSocket } from './dial.js';
import { hangsUpOnMeta, noMetaProtocol } from './metaProbe.js';
import { PatientTimer } from './PatientTimer.js';
import { Pipeline } from './Pipeline.js';
import { Request, sendRequest } from './Request.js';
import type { ServerEndpoint } from './ServerEndpoint.js';
import { SocketReader } from './SocketReader.js';
import { WriteCoalescer } from './WriteCoalescer.js';

export interface ConnectionOptions {
  /** Longest the TCP/TLS connect + handshake may take (the `reconnect` option). */
  connectTimeoutMs: number;
  /** Longest a written request may wait for the server to make progress (`request_timeout`). */
  requestTimeoutMs: number;
  /** Largest data block read from a reply; a bigger one is skipped and fails only its request. */
  maxValueBytes: number;
  clock?: Clock;
  /** Most written requests whose callers gave up that may wait on it (see Pipeline). */
  maxAbandoned?: number;
  /**
   * `meta` (default): memcached ≥ 1.6 itself. `text`: the classic text protocol, for proxies
   * (twemproxy, mcrouter) that do not forward meta commands; replies are matched by order.
   */
  protocol?: WireProtocol;
}

/** The two dialects a connection can speak. */
export type WireProtocol = 'meta' | 'text';

/** What the connection feeds received bytes to: the meta or the text reply parser. */
interface ReplyParser {
  /** Parses `chunk[0, end)`. */
  feed(chunk: Buffer, end?: number): void;
  stop(): void;
  directTarget(minBytes: number): Buffer | null;
  receivedDirect(bytes: number): void;
}

/**
 * Told once when the connection closes: why, whether that is evidence about the server, and the
 * user requests that never left this process (for the pool to send elsewhere or reject).
 */
export type ConnectionCloseListener = (
  connection: Connection,
  error: MemcachedCacheError,
  evidence: boolean,
  unsent: Request[],
) => void;

/**
 * One socket to one server (TCP, TLS or unix socket): the thin adapter between the socket and its
 * `Pipeline`. It opens the socket, runs the handshake (auth, `version`, and `mn` for the meta
 * protocol), feeds received bytes to the parser and the pipeline's writes to a `WriteCoalescer`,
 * and turns socket errors into the pipeline's destruction.
 */
export class Connection {
  readonly endpoint: ServerEndpoint;
  /** Resolves when the handshake succeeded; rejects with the reason it failed. */
  readonly ready: Promise<void>;
  readonly pipeline: Pipeline;
  private readonly socket: net.Socket;
  private readonly parser: ReplyParser;
  private readonly protocol: WireProtocol;
  private readonly writer: WriteCoalescer;
  /** Plain sockets only (TLS delivers its decrypted chunks as 'data' events). */
  private reader: SocketReader | null = null;
  private readonly clock: Clock;
  private readonly connectTimer: PatientTimer;
  /** Why the connection closed, once it has (null while open). */
  private closedBy: MemcachedCacheError | null = null;
  /** Ends the proxy check of a hang-up during the handshake (see the socket's close). */
  private probe: AbortController | null = null;
  /** Close as soon as the last request in flight is answered (see closeWhenIdle). */
  private closeOnIdle = false;
  private closeListeners: ConnectionCloseListener[] = [];
  private idleListeners: Array<() => void> = [];

  constructor(endpoint: ServerEndpoint, options: ConnectionOptions) {
    this.endpoint = endpoint;
    this.clock = options.clock ?? systemClock;
    this.protocol = options.protocol ?? 'meta';
    const onData = (chunk: Buffer): void => {
      this.pipeline.received();
      this.parser.feed(chunk);
    };
    // The pipeline and parser exist before the socket: a socket may ask for its read buffer at once.
    this.pipeline = new Pipeline(
      endpoint.id,
      { append: (payload, data, alone) => this.writer.append(payload, data, alone) },
      {
        requestTimeoutMs: options.requestTimeoutMs,
        clock: this.clock,
        ...(options.maxAbandoned === undefined ? {} : { maxAbandoned: options.maxAbandoned }),
        readyAfter: this.protocol === 'text' ? RequestKind.Version : RequestKind.Noop,
      },
    );
    this.parser =
      this.protocol === 'text'
        ? new TextResponseParser(this.pipeline, options.maxValueBytes)
        : new ResponseParser(this.pipeline, options.maxValueBytes);
    this.socket = endpoint.tls ? openTlsSocket(endpoint, onData) : this.openPlainSocket(endpoint);
    this.socket.setNoDelay(true);
    this.writer = new WriteCoalescer(
      this.socket,
      () => this.reader?.midReply === true,
      () => this.clock.now(),
    );
    this.pipeline.onClose((error, evidence, unsent) => this.onPipelineClosed(error, evidence, unsent));
    // An idle connection must not keep the process alive (dispatch refs it again).
    this.pipeline.onIdle(() => {
      this.socket.unref();
      for (const listener of this.idleListeners) listener();
      if (this.closeOnIdle) this.close();
    });
    this.socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => this.pipeline.markConnected());
    this.socket.on('error', (error) => this.pipeline.destroy(this.connectionError(error), true));
    this.socket.on('close', () => {
      const closed = new ConnectionError(`Connection to ${endpoint.id} closed by the server`, {
        server: endpoint.id,
      });
      // Answered `version`, then hung up on `mn`: twemproxy does this to every meta command, and
      // so may a memcached going away between the two. Fresh connections tell them apart (the
      // connect timer still bounds the handshake meanwhile).
      // Not after our own close (the pipeline is over; a probe would outlive the client).
      if (
        this.protocol === 'meta' &&
        this.closedBy === null &&
        !this.pipeline.isReady &&
        this.pipeline.serverVersion !== ''
      ) {
        const version = this.pipeline.serverVersion;
        this.probe = new AbortController();
        void hangsUpOnMeta(endpoint, options.connectTimeoutMs, this.probe.signal).then((proxy) =>
          proxy
            ? this.pipeline.destroy(
                noMetaProtocol(endpoint.id, version, 'closed the connection on the meta command `mn`'),
                false,
              )
            : this.pipeline.destroy(closed, true),
        );
        return;
      }
      // Closing an idle connection is the server's right (memcached's idle_timeout); closing one
      // with requests outstanding, or during the handshake, is a failure.
      this.pipeline.destroy(closed, this.pipeline.inflight > 0 || !this.pipeline.isReady);
    });
    // Patient: a connect "timeout" that only fired late because our loop was blocked would be
    // our stall, not the server's failure.
    this.connectTimer = new PatientTimer(this.clock, () => {
      this.pipeline.destroy(
        new TimeoutError(
          `Could not connect to ${endpoint.id} within ${options.connectTimeoutMs} ms (reconnect)`,
          { server: endpoint.id },
        ),
        true,
      );
    });
    this.connectTimer.start(options.connectTimeoutMs);
    this.ready = this.handshake();
    // Callers observe the failure through their own requests; this keeps it from being "unhandled".
    this.ready.catch(() => {});
  }

  /** Requests in the queue (including settled-but-unanswered ones). */
  get inflight(): number {
    return this.pipeline.inflight;
  }

  get isClosed(): boolean {
    return this.closedBy !== null;
  }

  get isHandshakeDone(): boolean {
    return this.pipeline.isReady;
  }

  get serverVersion(): string {
    return this.pipeline.serverVersion;
  }

  get lastActiveAt(): number {
    return this.pipeline.lastActiveAt;
  }

  /** Bytes accepted by the socket but not yet sent: a sign of a slow reader or a large write. */
  get bufferedBytes(): number {
    return this.writer.bufferedBytes;
  }

  onClose(listener: ConnectionCloseListener): void {
    this.closeListeners.push(listener);
  }

  /** Called each time its queue becomes empty. */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  /** Queues a request and returns its result (used for the handshake and by tests). */
  send<T>(request: Request, signal?: AbortSignal): Promise<T> {
    return sendRequest<T>(request, signal, this.endpoint.id, (r) => this.dispatch(r));
  }

  /** Queues a request whose listener is already set (the client's hot path: no extra promise). */
  dispatch(request: Request): void {
    // A connection with requests outstanding keeps the process alive; an idle one does not.
    if (this.pipeline.inflight === 0 && this.closedBy === null) this.socket.ref();
    this.pipeline.enqueue(request);
  }

  /** Closes the socket; what is pending is rejected (unsent requests go back to the close listener). */
  /** Closes once every request in flight is answered (at once when none is). */
  closeWhenIdle(): void {
    if (this.pipeline.inflight === 0) this.close();
    else this.closeOnIdle = true;
  }

  close(): void {
    this.pipeline.destroy(
      new ConnectionError(`Connection to ${this.endpoint.id} was closed by the client`, {
        server: this.endpoint.id,
      }),
      false,
    );
  }

  // ---- internals ----

  /**
   * Plain sockets read through a `SocketReader` (`onread`): into one buffer reused for the
   * connection's life, or straight into the buffer of a large value arriving. No allocation per read.
   */
  private openPlainSocket(endpoint: ServerEndpoint): net.Socket {
    const reader = new SocketReader(this.parser);
    this.reader = reader;
    const onread = {
      buffer: (): Buffer => reader.next(),
      callback: (bytes: number): boolean => {
        this.pipeline.received();
        this.writer.releaseHeld();
        reader.read(bytes);
        return true;
      },
    };
    if (endpoint.socketPath) return net.connect({ path: endpoint.socketPath, onread });
    return net.connect({ host: endpoint.host, port: endpoint.port, onread });
  }

  private async handshake(): Promise<void> {
    const endpoint = this.endpoint;
    const steps: Array<Promise<unknown>> = [];
    if (endpoint.username !== undefined) {
      const auth = authenticationCommand(endpoint.username, endpoint.password ?? '');
      steps.push(this.sendInternal(new Request(RequestKind.Auth, auth, null, -1, 0)));
    }
    steps.push(this.sendInternal(new Request(RequestKind.Version, versionCommand(), null, -1, 0)));
    try {
      // One Promise.all so that every handshake rejection is observed, not just the first.
      await Promise.all(steps);
      // `mn` proves the meta protocol before any user request is written (see Pipeline). Only
      // after `version` was answered: a proxy that closes the connection on a meta command
      // (twemproxy) would otherwise drop the pipelined `version` too, and a hang-up could not be
      // told from a crash; this way it is diagnosed (see the socket's close).
      if (this.protocol === 'meta') {
        // Closed meanwhile (a reply nobody asked for right after VERSION): that is the reason.
        if (this.closedBy !== null) throw this.closedBy;
        await this.sendInternal(new Request(RequestKind.Noop, metaNoop(), null, -1, 0));
      }
    } finally {
      this.connectTimer.cancel();
    }
  }

  private sendInternal<T>(request: Request): Promise<T> {
    request.internal = true;
    return this.send<T>(request);
  }

  private onPipelineClosed(error: MemcachedCacheError, evidence: boolean, unsent: Request[]): void {
    this.closedBy = error;
    this.connectTimer.cancel();
    // Closed by the client while a hang-up was being checked: the check's socket goes too.
    this.probe?.abort();
    this.parser.stop();
    this.writer.stop();
    this.socket.destroy();
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(this, error, evidence, unsent);
  }

  private connectionError(cause: unknown): ConnectionError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ConnectionError(`Connection to ${this.endpoint.id} failed: ${reason}`, {
      server: this.endpoint.id,
      cause,
    });
  }
}
