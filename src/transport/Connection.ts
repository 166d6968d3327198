import net from 'node:net';
import tls from 'node:tls';
import {
  AuthenticationError,
  ConnectionError,
  type MemcachedCacheError,
  ProtocolError,
  ServerError,
  TimeoutError,
  UnsupportedServerError,
} from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { authenticationCommand, metaNoop, versionCommand } from '../protocol/RequestEncoder.js';
import { ResponseParser } from '../protocol/ResponseParser.js';
import { ResponseStatus } from '../protocol/ResponseStatus.js';
import { Request, RequestKind, rejectRequest, resolveRequest, sendRequest } from './Request.js';
import type { ServerEndpoint } from './ServerEndpoint.js';
import { WriteCoalescer } from './WriteCoalescer.js';

export interface ConnectionOptions {
  /** Longest a connect + handshake may take (the `reconnect` option). */
  connectTimeoutMs: number;
  /** Longest wait for one reply (`request_timeout`). */
  requestTimeoutMs: number;
  /** Largest data block accepted in a reply. */
  maxValueBytes: number;
}

/**
 * One socket to one server (TCP, TLS or unix socket) with a pipelined request queue.
 *
 * Replies arrive in request order. Every meta reply must echo the opaque token of the request
 * at the head of the queue; any mismatch, unexpected reply or unparsable byte means the stream
 * lost its framing, so the connection is destroyed and all its requests rejected — a value is
 * never handed to the wrong key.
 *
 * Writes issued in the same tick are coalesced into one socket write. A request that times out
 * or is aborted is settled at once but stays in the queue until its reply arrives; if the head
 * of the queue itself is overdue the server is stuck and the connection is destroyed.
 */
export class Connection {
  readonly endpoint: ServerEndpoint;
  /** The server's version, known once the handshake is done. */
  serverVersion = '';
  /** ms timestamp of the last enqueue or reply, for idle sweeping. */
  lastActive = Date.now();
  /** Resolves when the handshake succeeded; rejects with the reason it failed. */
  readonly ready: Promise<void>;

  private readonly options: ConnectionOptions;
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private head: Request | null = null;
  private tail: Request | null = null;
  private pendingCount = 0;
  private readonly writer: WriteCoalescer;
  private timer: NodeJS.Timeout | null = null;
  private timerDeadline = 0;
  private closed = false;
  private isReady = false;
  /** User requests queued before the handshake finished; written once it succeeds. */
  private held: Request[] = [];
  private closeListeners: Array<(connection: Connection, error: Error | null) => void> = [];

  constructor(endpoint: ServerEndpoint, options: ConnectionOptions) {
    this.endpoint = endpoint;
    this.options = options;
    this.parser = new ResponseParser(this, options.maxValueBytes + 1024);
    const onData = (chunk: Buffer): void => {
      this.lastActive = Date.now();
      this.parser.feed(chunk);
    };
    this.socket = endpoint.tls ? openTlsSocket(endpoint, onData) : this.openPlainSocket(endpoint);
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => this.destroy(this.connectionError(error)));
    this.socket.on('close', () =>
      this.destroy(
        new ConnectionError(`Connection to ${endpoint.id} closed by the server`, { server: endpoint.id }),
      ),
    );
    this.writer = new WriteCoalescer(this.socket);
    this.ready = this.handshake();
    // Callers observe the failure through their own requests; this keeps it from being "unhandled".
    this.ready.catch(() => {});
  }

  /** Requests sent and not yet answered (including settled-but-unanswered ones). */
  get inflight(): number {
    return this.pendingCount;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isHandshakeDone(): boolean {
    return this.isReady;
  }

  /** Bytes accepted by the socket but not yet sent: a sign of a slow reader or a large write. */
  get bufferedBytes(): number {
    return this.writer.bufferedBytes;
  }

  /**
   * Plain sockets read into one buffer reused for the connection's life (`onread`): the parser
   * copies out everything it keeps, so no per-read allocation is needed. While a large value is
   * arriving, reads land straight in that value's buffer: no copy at all.
   */
  private openPlainSocket(endpoint: ServerEndpoint): net.Socket {
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    let direct = false;
    const onread = {
      buffer: (): Buffer => {
        const target = this.parser.directTarget(DIRECT_READ_BYTES);
        direct = target !== null;
        return target ?? readBuffer;
      },
      callback: (bytes: number, buf: Uint8Array): boolean => {
        this.lastActive = Date.now();
        if (direct) this.parser.receivedDirect(bytes);
        else this.parser.feed((buf as Buffer).subarray(0, bytes));
        return true;
      },
    };
    if (endpoint.socketPath) return net.connect({ path: endpoint.socketPath, onread });
    return net.connect({ host: endpoint.host, port: endpoint.port, onread });
  }

  onClose(listener: (connection: Connection, error: Error | null) => void): void {
    this.closeListeners.push(listener);
  }

  /**
   * Queues a request and returns its result. `signal` may abort the wait (the reply is still
   * consumed when it comes, to keep the stream in step).
   */
  send<T>(request: Request, signal?: AbortSignal): Promise<T> {
    return sendRequest<T>(request, signal, this.endpoint.id, (r) => this.dispatch(r));
  }

  /** Queues a request whose listener is already set (the client's hot path: no extra promise). */
  dispatch(request: Request): void {
    if (this.closed) {
      rejectRequest(
        request,
        new ConnectionError(`Connection to ${this.endpoint.id} is closed`, {
          server: this.endpoint.id,
          key: request.key,
          details: { requestSent: false },
        }),
      );
      return;
    }
    this.enqueue(request, request.timeoutMs > 0 ? request.timeoutMs : this.options.requestTimeoutMs);
  }

  /** Closes the socket and rejects everything pending. Idempotent. */
  close(): void {
    this.destroy(
      new ConnectionError(`Connection to ${this.endpoint.id} was closed by the client`, {
        server: this.endpoint.id,
      }),
    );
  }

  // ---- ResponseHandler (called by the parser) ----

  onResponse(response: MetaResponse): void {
    const request = this.head;
    if (request === null) {
      this.destroy(this.protocolError('the server sent a reply nobody asked for'));
      return;
    }
    switch (request.kind) {
      case RequestKind.Meta:
        if (response.status >= ResponseStatus.Error) return this.onErrorReply(request, response);
        if (response.opaque !== request.opaque) {
          return this.destroy(this.protocolError('a reply carried the wrong opaque token (response desync)'));
        }
        return this.complete(request, response);
      case RequestKind.Batch: {
        if (response.status === ResponseStatus.NoOp) return this.complete(request, request.collected);
        const offset = response.opaque - request.opaque;
        if (response.status >= ResponseStatus.Error || offset < 0 || offset >= request.count) {
          return this.destroy(this.protocolError('a batched reply did not match any request in the batch'));
        }
        (request.collected as Array<MetaResponse | undefined>)[offset] = response;
        return;
      }
      case RequestKind.Stats:
        if (response.status === ResponseStatus.Stat) {
          const space = response.text.indexOf(' ');
          (request.collected as Map<string, string>).set(
            space === -1 ? response.text : response.text.slice(0, space),
            space === -1 ? '' : response.text.slice(space + 1),
          );
          return;
        }
        if (response.status === ResponseStatus.End) return this.complete(request, request.collected);
        return this.onUnexpected(request, response);
      case RequestKind.Version:
        if (response.status === ResponseStatus.Version) {
          // Recorded now, synchronously: the handshake's `mn` reply may follow in this same
          // chunk, and an UnsupportedServerError must name the version found.
          if (request.internal) this.serverVersion = response.text;
          return this.complete(request, response.text);
        }
        return this.onUnexpected(request, response);
      case RequestKind.Flush:
        if (response.status === ResponseStatus.Ok) return this.complete(request, null);
        return this.onUnexpected(request, response);
      case RequestKind.Auth:
        if (response.status === ResponseStatus.Stored) return this.complete(request, null);
        return this.destroy(
          new AuthenticationError(`Server ${this.endpoint.id} refused the credentials`, {
            server: this.endpoint.id,
          }),
        );
      case RequestKind.Noop:
        if (response.status === ResponseStatus.NoOp) {
          this.isReady = true;
          this.complete(request, null);
          // Now send what was queued behind the handshake, in queue order.
          const held = this.held;
          this.held = [];
          for (const waiting of held) this.write(waiting);
          return;
        }
        return this.destroy(
          new UnsupportedServerError(
            `Server ${this.endpoint.id} (version ${this.serverVersion || 'unknown'}) does not support the meta protocol; memcached 1.6 or newer is required`,
            { server: this.endpoint.id },
          ),
        );
    }
  }

  onError(error: ProtocolError): void {
    this.destroy(this.withServer(error));
  }

  // ---- internals ----

  private async handshake(): Promise<void> {
    const endpoint = this.endpoint;
    const connectTimer = setTimeout(() => {
      this.destroy(
        new TimeoutError(`Could not connect to ${endpoint.id} within ${this.options.connectTimeoutMs} ms`, {
          server: endpoint.id,
        }),
      );
    }, this.options.connectTimeoutMs);
    try {
      const steps: Array<Promise<unknown>> = [];
      if (endpoint.username !== undefined) {
        steps.push(
          this.sendInternal(
            new Request(
              RequestKind.Auth,
              authenticationCommand(endpoint.username, endpoint.password ?? ''),
              null,
              -1,
              0,
            ),
          ),
        );
      }
      const version = this.sendInternal<string>(
        new Request(RequestKind.Version, versionCommand(), null, -1, 0),
      );
      const noop = this.sendInternal(new Request(RequestKind.Noop, metaNoop(), null, -1, 0));
      // One Promise.all so that every handshake rejection is observed, not just the first.
      const [, serverVersion] = await Promise.all([Promise.all(steps), version, noop]);
      this.serverVersion = serverVersion;
    } catch (error) {
      // The socket error is the root cause; a handshake request only reports its symptom.
      throw error instanceof Error && 'code' in error ? error : this.connectionError(error);
    } finally {
      clearTimeout(connectTimer);
    }
  }

  private sendInternal<T>(request: Request): Promise<T> {
    request.internal = true;
    return sendRequest<T>(request, undefined, this.endpoint.id, (r) =>
      this.enqueue(r, this.options.connectTimeoutMs),
    );
  }

  private enqueue(request: Request, timeoutMs: number): void {
    const now = Date.now();
    request.deadline = now + timeoutMs;
    request.stuckAt = now + Math.max(timeoutMs, this.options.requestTimeoutMs);
    this.lastActive = now;
    if (this.tail === null) {
      this.head = this.tail = request;
      this.socket.ref();
    } else {
      this.tail.next = request;
      this.tail = request;
    }
    this.pendingCount++;
    this.write(request);
    // The timer may be armed for a later deadline (e.g. the handshake's connect timeout).
    if (this.timer === null || request.deadline < this.timerDeadline) this.armTimer(timeoutMs);
  }

  private write(request: Request): void {
    if (!this.isReady && !request.internal) {
      // Nothing of the user's goes out before the handshake proved the peer speaks meta: an old
      // memcached would run an `ms` data block as a command, and a request destroyed with the
      // handshake must really be unsent for `requestSent: false` (and its retry) to be true.
      this.held.push(request);
      return;
    }
    this.writer.append(request.payload, request.data);
  }

  private complete(request: Request, result: unknown): void {
    this.dequeue();
    if (!request.settled) {
      request.settled = true;
      resolveRequest(request, result);
    }
  }

  private dequeue(): void {
    const request = this.head!;
    this.head = request.next;
    request.next = null;
    if (this.head === null) {
      this.tail = null;
      // An idle connection must not keep the process alive.
      if (!this.closed) this.socket.unref();
    }
    this.pendingCount--;
  }

  private onErrorReply(request: Request, response: MetaResponse): void {
    const kind =
      response.status === ResponseStatus.ServerError
        ? 'SERVER_ERROR'
        : response.status === ResponseStatus.ClientError
          ? 'CLIENT_ERROR'
          : 'ERROR';
    const error = new ServerError(
      `Server ${this.endpoint.id} answered ${kind}${response.text ? `: ${response.text}` : ''}`,
      {
        server: this.endpoint.id,
        key: request.key,
        details: { reply: kind },
      },
    );
    // A single-line request (mg/md/ma: no data block) gets exactly one reply line, even a
    // CLIENT_ERROR such as "cannot increment or decrement non-numeric value": the stream is
    // still in step, so only this request fails, not everything pipelined with it.
    const singleLine =
      response.status === ResponseStatus.ClientError &&
      request.kind === RequestKind.Meta &&
      request.data === null;
    if (response.status === ResponseStatus.ServerError || singleLine) {
      // The server consumed the whole request (it swallows the data block), so the stream is
      // still in step: fail this request only.
      this.dequeue();
      this.settle(request, error);
      return;
    }
    // CLIENT_ERROR/ERROR may be followed by another line for the same request (the server
    // reads the data block as a command), so the framing can no longer be trusted.
    this.dequeue();
    this.settle(request, error);
    this.destroy(
      this.protocolError(`the server answered ${kind}; the connection is replaced to stay in step`),
    );
  }

  private onUnexpected(request: Request, response: MetaResponse): void {
    if (response.status === ResponseStatus.ServerError) return this.onErrorReply(request, response);
    this.destroy(this.protocolError('an unexpected reply was received (response desync)'));
  }

  private settle(request: Request, error: Error): void {
    if (request.settled) return;
    request.settled = true;
    rejectRequest(request, error);
  }

  private armTimer(delayMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDeadline = Date.now() + delayMs;
    this.timer = setTimeout(checkDeadlines, Math.max(1, delayMs), this);
    this.timer.unref();
  }

  /** Times out overdue requests; an overdue head means the server stopped answering. */
  checkDeadlines(): void {
    this.timer = null;
    if (this.closed) return;
    const now = Date.now();
    // Handshake requests are bounded by the connect timer; user requests behind them still
    // time out on their own schedule.
    let first = this.head;
    while (first?.internal) first = first.next;
    // Only a head that waited a full request_timeout means the server is stuck. A request with a
    // shorter deadline of its own (a retry gets what is left of its op's budget) times out alone:
    // destroying the connection for it would fail every request pipelined behind it and count
    // them all against a healthy server.
    const head = first === this.head ? first : null;
    if (head !== null && head.stuckAt <= now) {
      this.destroy(
        new TimeoutError(
          `Server ${this.endpoint.id} did not answer within ${this.options.requestTimeoutMs} ms`,
          {
            server: this.endpoint.id,
          },
        ),
      );
      return;
    }
    // Deadlines differ per request, so they are not in queue order: look at every request.
    let wake = head !== null ? head.stuckAt : Number.POSITIVE_INFINITY;
    for (let request = first; request !== null; request = request.next) {
      if (request.settled || request.internal) continue;
      if (request.deadline <= now) {
        const waited = request.timeoutMs > 0 ? request.timeoutMs : this.options.requestTimeoutMs;
        this.settle(
          request,
          new TimeoutError(`Server ${this.endpoint.id} did not answer within ${waited} ms`, {
            server: this.endpoint.id,
            key: request.key,
          }),
        );
      } else if (request.deadline < wake) wake = request.deadline;
    }
    if (wake !== Number.POSITIVE_INFINITY) this.armTimer(wake - now);
  }

  /** Rejects every pending request with `error` (each carrying its own key) and frees the socket. */
  private destroy(error: MemcachedCacheError): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.socket.destroy();
    let request = this.head;
    this.head = this.tail = null;
    this.pendingCount = 0;
    this.writer.stop();
    this.held = [];
    // Before the handshake finished the server processed none of the user's requests, so the
    // caller may safely retry even a non-idempotent one.
    const neverSent = !this.isReady;
    while (request !== null) {
      const next = request.next;
      request.next = null;
      if (!request.settled) {
        request.settled = true;
        const unsent = neverSent && !request.internal;
        rejectRequest(
          request,
          request.key === undefined && !unsent ? error : copyFor(error, request.key, unsent),
        );
      }
      request = next;
    }
    for (const listener of this.closeListeners) listener(this, error);
    this.closeListeners = [];
  }

  private protocolError(reason: string): ProtocolError {
    return new ProtocolError(`Protocol error with ${this.endpoint.id}: ${reason}`, {
      server: this.endpoint.id,
    });
  }

  private withServer(error: ProtocolError): ProtocolError {
    return new ProtocolError(`${error.message} (server ${this.endpoint.id})`, {
      server: this.endpoint.id,
      cause: error,
    });
  }

  private connectionError(cause: unknown): ConnectionError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ConnectionError(`Connection to ${this.endpoint.id} failed: ${reason}`, {
      server: this.endpoint.id,
      cause,
    });
  }
}

function checkDeadlines(connection: Connection): void {
  connection.checkDeadlines();
}

/** The same error for one request: naming its key, and whether it was never sent. */
function copyFor(
  error: MemcachedCacheError,
  key: string | undefined,
  neverSent: boolean,
): MemcachedCacheError {
  const Class = error.constructor as new (message: string, options: object) => MemcachedCacheError;
  const details = neverSent ? { ...error.details, requestSent: false } : error.details;
  return new Class(error.message, {
    server: error.server,
    key: key ?? error.key,
    cause: error.cause,
    details,
  });
}

/** Bytes read from the socket in one go, into one buffer reused for the connection's life. */
const READ_BUFFER_BYTES = 256 * 1024;
/** A value with at least this much still to come is read in place. */
const DIRECT_READ_BYTES = 64 * 1024;

/** TLS sockets deliver decrypted chunks as 'data' events. */
function openTlsSocket(endpoint: ServerEndpoint, onData: (chunk: Buffer) => void): net.Socket {
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
