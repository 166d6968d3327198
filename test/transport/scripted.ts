// A scripted world for the pipeline: a clock that moves only when told, timers that can be made
// to fire late (our loop "stalled"), an explicit I/O poll, and a writer that records the bytes.

import { ConnectionError, type MemcachedCacheError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import { type MetaGetFlags, metaGet, metaNoop, versionCommand } from '../../src/protocol/RequestEncoder.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import type { Clock } from '../../src/transport/Clock.js';
import { Pipeline } from '../../src/transport/Pipeline.js';
import type { PoolConnection } from '../../src/transport/Pool.js';
import { Request, RequestKind, reserveOpaques } from '../../src/transport/Request.js';
import type { ServerEndpoint } from '../../src/transport/ServerEndpoint.js';

interface Timer {
  at: number;
  callback: () => void;
  cancelled: boolean;
}

export class ScriptedClock implements Clock {
  time = 1000;
  private timers: Timer[] = [];
  private afterPoll: Array<() => void> = [];
  private tickEnd: Array<() => void> = [];

  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { at: this.time + Math.max(1, delayMs), callback, cancelled: false };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    (handle as Timer).cancelled = true;
  }
  afterIO(callback: () => void): void {
    this.afterPoll.push(callback);
  }
  endOfTick(callback: () => void): void {
    this.tickEnd.push(callback);
  }
  /** The share of time our loop is busy, as `busySince` reports it (0: always waiting for I/O). */
  busy = 0;
  loopMark(): unknown {
    return this.time;
  }
  busySince(_mark: unknown): number {
    return this.busy;
  }

  /**
   * Moves time forward by `ms` as a responsive loop does: each due timer fires on time, then
   * the loop polls (`poll` runs: replies arriving) and runs what waits for after the poll.
   */
  advance(ms: number, poll?: () => void): void {
    this.endTick();
    const end = this.time + ms;
    for (;;) {
      const next = this.nextTimer(end);
      if (next === null) break;
      this.time = next.at;
      this.fire(next);
      this.poll(poll);
      poll = undefined;
    }
    this.time = end;
    this.poll(poll);
  }

  /**
   * Our loop is blocked for `ms`: no timer runs meanwhile. Then the overdue timers fire late,
   * the loop polls (`poll` delivers what arrived during the stall), and the after-poll work runs.
   */
  stall(ms: number, poll?: () => void): void {
    this.endTick();
    this.time += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.time).sort((a, b) => a.at - b.at);
    for (const timer of due) this.fire(timer);
    this.poll(poll);
  }

  /** The synchronous work so far is done: what waits for the end of the tick runs. */
  endTick(): void {
    const waiting = this.tickEnd;
    this.tickEnd = [];
    for (const callback of waiting) callback();
  }

  private poll(poll: (() => void) | undefined): void {
    this.endTick();
    poll?.();
    const waiting = this.afterPoll;
    this.afterPoll = [];
    for (const callback of waiting) callback();
  }

  private nextTimer(end: number): Timer | null {
    let best: Timer | null = null;
    for (const t of this.timers)
      if (!t.cancelled && t.at <= end && (best === null || t.at < best.at)) best = t;
    return best;
  }

  private fire(timer: Timer): void {
    timer.cancelled = true;
    this.timers = this.timers.filter((t) => t !== timer);
    timer.callback();
  }
}

export interface Outcome {
  value?: unknown;
  error?: MemcachedCacheError;
}

export interface Closed {
  error: MemcachedCacheError;
  evidence: boolean;
  unsent: Request[];
}

/** A pipeline wired to a scripted clock, a byte transcript and a parser fed by `reply()`. */
export class ScriptedPipeline {
  readonly clock = new ScriptedClock();
  readonly written: string[] = [];
  /** For each write, whether the pipeline said nothing else was in flight (`alone`). */
  readonly alone: boolean[] = [];
  readonly pipeline: Pipeline;
  readonly parser: ResponseParser;
  closed: Closed | null = null;

  constructor(requestTimeoutMs = 1000, maxValueBytes = 1024, maxAbandoned?: number) {
    this.pipeline = new Pipeline(
      'test:11211',
      {
        append: (payload, data, alone) => {
          this.written.push(String(payload) + (data ? `${data.toString('latin1')}\r\n` : ''));
          this.alone.push(alone);
        },
      },
      { requestTimeoutMs, clock: this.clock, ...(maxAbandoned === undefined ? {} : { maxAbandoned }) },
    );
    this.parser = new ResponseParser(this.pipeline, maxValueBytes);
    this.pipeline.onClose((error, evidence, unsent) => {
      this.closed = { error, evidence, unsent };
    });
  }

  /** Bytes from the server. */
  reply(text: string | Buffer): void {
    this.pipeline.received();
    this.parser.feed(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Connects and completes the handshake (version + mn). */
  handshake(): void {
    this.internal(RequestKind.Version, versionCommand());
    this.internal(RequestKind.Noop, metaNoop());
    this.pipeline.markConnected();
    this.reply('VERSION 1.6.18\r\nMN\r\n');
  }

  internal(kind: RequestKind, line: string): Outcome {
    const request = new Request(kind, line, null, -1, 0);
    request.internal = true;
    return this.enqueue(request);
  }

  /** Queues `mg <key> v` and returns where its outcome will land. */
  get(key: string): { outcome: Outcome; opaque: number; request: Request } {
    const opaque = reserveOpaques(1);
    const request = new Request(
      RequestKind.Meta,
      metaGet(encodeKey(key, 250), ' v' as MetaGetFlags, opaque),
      null,
      opaque,
      0,
    );
    request.key = key;
    return { outcome: this.enqueue(request), opaque, request };
  }

  enqueue(request: Request): Outcome {
    const outcome = recordOutcome(request);
    this.pipeline.enqueue(request);
    return outcome;
  }
}

/** Sets the request's listener to record its outcome in the object returned. */
export function recordOutcome(request: Request): Outcome {
  const outcome: Outcome = {};
  request.listener = {
    onReply: (_r, value) => {
      outcome.value = value;
    },
    onFailure: (_r, error) => {
      outcome.error = error as MemcachedCacheError;
    },
  };
  return outcome;
}

type CloseListener = (
  connection: PoolConnection,
  error: MemcachedCacheError,
  evidence: boolean,
  unsent: Request[],
) => void;

/**
 * A connection for the pool with no socket: a real Pipeline (with its handshake) on the scripted
 * clock, a byte transcript, and methods that script what the server does.
 */
export class ScriptedConnection implements PoolConnection {
  readonly pipeline: Pipeline;
  readonly parser: ResponseParser;
  readonly written: string[] = [];
  readonly ready: Promise<void>;
  private listeners: CloseListener[] = [];
  private idleListeners: Array<() => void> = [];
  private closeOnIdle = false;

  constructor(
    readonly endpoint: ServerEndpoint,
    clock: Clock,
    requestTimeoutMs: number,
  ) {
    this.pipeline = new Pipeline(
      endpoint.id,
      {
        append: (payload, data) =>
          this.written.push(String(payload) + (data ? `${data.toString('latin1')}\r\n` : '')),
      },
      { requestTimeoutMs, clock },
    );
    this.parser = new ResponseParser(this.pipeline, 1024);
    this.pipeline.onClose((error, evidence, unsent) => {
      for (const listener of this.listeners.splice(0)) listener(this, error, evidence, unsent);
    });
    this.pipeline.onIdle(() => {
      for (const listener of this.idleListeners) listener();
      if (this.closeOnIdle) this.close();
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const version = new Request(RequestKind.Version, versionCommand(), null, -1, 0);
      version.internal = true;
      version.listener = { onReply() {}, onFailure: (_r, error) => reject(error) };
      const noop = new Request(RequestKind.Noop, metaNoop(), null, -1, 0);
      noop.internal = true;
      noop.listener = { onReply: () => resolve(), onFailure: (_r, error) => reject(error) };
      this.pipeline.enqueue(version);
      this.pipeline.enqueue(noop);
    });
    this.ready.catch(() => {});
  }

  get inflight(): number {
    return this.pipeline.inflight;
  }
  get isClosed(): boolean {
    return this.pipeline.isClosed;
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
  get bufferedBytes(): number {
    return 0;
  }
  /** The user requests written on it (`mg <key> …` lines), by key. */
  get keysWritten(): string[] {
    return this.written.filter((line) => line.startsWith('mg ')).map((line) => line.split(' ')[1]!);
  }
  onClose(listener: CloseListener): void {
    this.listeners.push(listener);
  }
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }
  dispatch(request: Request): void {
    this.pipeline.enqueue(request);
  }
  close(): void {
    this.pipeline.destroy(
      new ConnectionError(`Connection to ${this.endpoint.id} was closed by the client`, {
        server: this.endpoint.id,
      }),
      false,
    );
  }
  closeWhenIdle(): void {
    if (this.pipeline.inflight === 0) this.close();
    else this.closeOnIdle = true;
  }

  // ---- what the server does ----

  /** The socket connected and the server completed the handshake. */
  accept(): void {
    this.pipeline.markConnected();
    this.reply('VERSION 1.6.18\r\nMN\r\n');
  }
  /** memcached's `-c` limit: it turns the connection away. */
  refuse(): void {
    this.pipeline.markConnected();
    this.reply('ERROR Too many open connections\r\n');
  }
  /** The connection was reset. */
  reset(): void {
    this.pipeline.destroy(new ConnectionError(`Connection to ${this.endpoint.id} failed: ECONNRESET`), true);
  }
  reply(text: string): void {
    this.pipeline.received();
    this.parser.feed(Buffer.from(text, 'latin1'));
  }
}
