// A tiny one-shot socket client for tests: connect, write, read until a terminator, close.
// It knows nothing about the memcached protocol beyond "responses end with \r\n".
import { connect, type Socket } from 'node:net';

export type RawTarget = { host: string; port: number } | { socketPath: string };

export interface RawCommandOptions {
  /** The accumulated reply (latin1) must end with this string, or match this RegExp. Default: ends with `\r\n`. */
  until?: string | RegExp;
  /** Reject when the reply is not complete within this many ms. Default 2000. */
  timeoutMs?: number;
}

export class RawCommandError extends Error {
  /** Whatever was received before the failure. */
  readonly data: Buffer;
  constructor(message: string, data: Buffer, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RawCommandError';
    this.data = data;
  }
}

function describeTarget(target: RawTarget): string {
  return 'socketPath' in target ? target.socketPath : `${target.host}:${target.port}`;
}

function isComplete(text: string, until: string | RegExp): boolean {
  if (typeof until === 'string') return text.endsWith(until);
  until.lastIndex = 0;
  return until.test(text);
}

export function rawCommand(
  target: RawTarget,
  payload: string | Buffer,
  opts: RawCommandOptions = {},
): Promise<Buffer> {
  const until = opts.until ?? '\r\n';
  const timeoutMs = opts.timeoutMs ?? 2000;
  const where = describeTarget(target);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let socket: Socket;
    const received = (): Buffer => Buffer.concat(chunks);
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received());
    };
    const timer = setTimeout(() => {
      const data = received();
      finish(
        new RawCommandError(
          `rawCommand to ${where} timed out after ${timeoutMs} ms (received ${data.length} bytes: ${JSON.stringify(data.toString('latin1').slice(0, 200))})`,
          data,
        ),
      );
    }, timeoutMs);
    socket =
      'socketPath' in target
        ? connect({ path: target.socketPath })
        : connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(payload);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (isComplete(received().toString('latin1'), until)) finish(null);
    });
    socket.on('error', (err) => {
      finish(
        new RawCommandError(`rawCommand to ${where} failed: ${err.message}`, received(), { cause: err }),
      );
    });
    socket.on('close', () => {
      const data = received();
      finish(
        new RawCommandError(
          `rawCommand to ${where}: connection closed before the reply was complete (received ${data.length} bytes: ${JSON.stringify(data.toString('latin1').slice(0, 200))})`,
          data,
        ),
      );
    });
  });
}

/**
 * The server's `curr_connections` as seen from a fresh socket of ours, minus that socket: the
 * connections other clients hold (plus memcached's own listening sockets, a constant).
 */
export async function otherConnections(target: RawTarget): Promise<number> {
  const reply = (await rawCommand(target, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
  return Number(/STAT curr_connections (\d+)/.exec(reply)?.[1]) - 1;
}

/** Waits (polling) until the server's connection count from others is `expected`; returns the last count. */
export async function settleConnections(
  target: RawTarget,
  expected: number,
  timeoutMs = 2000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await otherConnections(target);
    if (count === expected || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The connection count from others once the start-up probes of the test support have been
 * noticed as closed: polls until the count has not dropped for 100 ms.
 */
export async function quietConnections(target: RawTarget): Promise<number> {
  let count = await otherConnections(target);
  let stableSince = Date.now();
  while (Date.now() - stableSince < 100) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await otherConnections(target);
    if (now < count) {
      count = now;
      stableSince = Date.now();
    }
  }
  return count;
}
