// Waiting for events instead of sleeping: a polled condition with a deadline, and promises of the
// client's own diagnostics_channel events (`memcached-cache:command`, `memcached-cache:connect`)
// and of Node's `net.client.socket` (every socket the process opens).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMMAND_TRACING, type CommandTraceContext } from '../../src/client/diagnostics.js';
import { CONNECT_TRACING, type ConnectTraceContext } from '../../src/transport/tracing.js';

/**
 * Polls `check` every `intervalMs` until it is true (→ true) or `timeoutMs` passes (→ false, after
 * one last check). The caller asserts on the result, so a timeout fails with its own message.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * Resolves once `promise` settles, or rejects after `timeoutMs` naming `what`. The timer is
 * always cleared.
 */
async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `listener` with every message of the plain channel `name` until the returned stop(). */
function listen<T>(name: string, listener: (message: T) => void): () => void {
  const handler = (message: unknown): void => listener(message as T);
  subscribe(name, handler);
  return () => unsubscribe(name, handler);
}

/** The first message of `name` that `match` accepts, within `timeoutMs`. Call it before acting. */
function nextOn<T>(
  name: string,
  match: (message: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let stop = (): void => {};
  const seen = new Promise<T>((resolve) => {
    stop = listen<T>(name, (message) => {
      if (match(message)) resolve(message);
    });
  });
  return bounded(seen, timeoutMs, what).finally(() => stop());
}

/**
 * The context of the first traced command (`memcached-cache:command`) that `match` accepts, once it
 * has settled (asyncEnd). Subscribing makes every client in the process trace its commands, so
 * call it before the action that issues the command.
 */
export function commandSettled(
  match: (context: CommandTraceContext) => boolean,
  timeoutMs: number,
  what = 'matching command',
): Promise<CommandTraceContext> {
  return nextOn(`tracing:${COMMAND_TRACING}:asyncEnd`, match, timeoutMs, what);
}

/** The context of the first connection attempt (`memcached-cache:connect` start) that `match` accepts. */
export function connectStarted(
  match: (context: ConnectTraceContext) => boolean,
  timeoutMs: number,
  what = 'connection attempt',
): Promise<ConnectTraceContext> {
  return nextOn(`tracing:${CONNECT_TRACING}:start`, match, timeoutMs, what);
}

/** Every connection attempt (`memcached-cache:connect`) from now until stop(): started and settled. */
export function recordConnects(): {
  started: ConnectTraceContext[];
  settled: ConnectTraceContext[];
  stop(): void;
} {
  const started: ConnectTraceContext[] = [];
  const settled: ConnectTraceContext[] = [];
  const stops = [
    listen<ConnectTraceContext>(`tracing:${CONNECT_TRACING}:start`, (c) => started.push(c)),
    listen<ConnectTraceContext>(`tracing:${CONNECT_TRACING}:asyncEnd`, (c) => settled.push(c)),
  ];
  return {
    started,
    settled,
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/**
 * Every traced command (`memcached-cache:command`) from now until stop(): started (in the caller's
 * tick) and settled (asyncEnd). `pending(match)` counts those started but not yet settled.
 */
export function recordCommands(): {
  started: CommandTraceContext[];
  settled: CommandTraceContext[];
  stop(): void;
} {
  const started: CommandTraceContext[] = [];
  const settled: CommandTraceContext[] = [];
  const stops = [
    listen<CommandTraceContext>(`tracing:${COMMAND_TRACING}:start`, (c) => started.push(c)),
    listen<CommandTraceContext>(`tracing:${COMMAND_TRACING}:asyncEnd`, (c) => settled.push(c)),
  ];
  return {
    started,
    settled,
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** Every client socket the process opens (Node's `net.client.socket`) from now until stop(). */
export function recordSockets(): { sockets: net.Socket[]; stop(): void } {
  const sockets: net.Socket[] = [];
  const stop = listen<{ socket: net.Socket }>('net.client.socket', ({ socket }) => sockets.push(socket));
  return { sockets, stop };
}
