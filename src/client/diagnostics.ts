/**
 * `node:diagnostics_channel` instrumentation. Every command the client sends publishes one
 * message on the channel `memcached-cache:command` (a batch read publishes one per key). Nothing
 * is built when nobody subscribes: the client checks `commandChannel.hasSubscribers` first.
 *
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('memcached-cache:command', (message) => console.log(message));
 * ```
 *
 * Messages never carry the value: values may be secrets.
 */
import { channel } from 'node:diagnostics_channel';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { ResponseStatus } from '../protocol/ResponseStatus.js';

export const COMMAND_CHANNEL = 'memcached-cache:command';

/** The channel itself; `hasSubscribers` is the cheap guard the client checks. */
export const commandChannel = channel(COMMAND_CHANNEL);

export const TOPOLOGY_CHANNEL = 'memcached-cache:topology';

/** Where applied server-list changes are published (`TopologyChange`). */
export const topologyChannel = channel(TOPOLOGY_CHANNEL);

/** One applied change of the server list (see `MemcachedClient.setServers`). */
export interface TopologyChange {
  /** Server ids (`host:port`) that joined. */
  readonly added: readonly string[];
  /** Server ids that left. */
  readonly removed: readonly string[];
  /** What asked for it: `setServers`, or the discovery source (`elasticache`, `elasticache_legacy`, `dns`, `discovery`). */
  readonly source: string;
  /**
   * The cluster configuration's version for `elasticache` and `elasticache_legacy`; otherwise
   * the number of changes this client has applied.
   */
  readonly version: number;
}

export type CommandOutcome = 'hit' | 'miss' | 'stored' | 'not_stored' | 'deleted' | 'not_found' | 'error';

export type CommandName =
  | 'get'
  | 'gat'
  | 'touch'
  | 'getMany'
  | 'getOrLease'
  | 'set'
  | 'add'
  | 'replace'
  | 'append'
  | 'prepend'
  | 'cas'
  | 'delete'
  | 'incr'
  | 'decr';

/** What a subscriber of `memcached-cache:command` receives. */
export interface CommandMessage {
  command: CommandName;
  /** The key as sent (after any key prefix), never the value. */
  key: string;
  /** Server id (`host:port` or socket path) the command went to. */
  server: string;
  /** Wall time from the first attempt to the outcome, including retries. */
  durationMs: number;
  /**
   * `hit`/`miss` for reads (get, gat, getMany, getOrLease) and for touch/incr/decr (key found or
   * not); `stored`/`not_stored` for writes; `deleted`/`not_found` for delete; `error` when the
   * command failed (then `error` is set).
   */
  outcome: CommandOutcome;
  error?: Error;
}

/** The outcome of one reply for `command`. */
export function outcomeOf(command: CommandName, response: MetaResponse | undefined): CommandOutcome {
  switch (command) {
    case 'set':
    case 'add':
    case 'replace':
    case 'append':
    case 'prepend':
    case 'cas':
      return response?.status === ResponseStatus.Header ? 'stored' : 'not_stored';
    case 'delete':
      return response?.status === ResponseStatus.Header ? 'deleted' : 'not_found';
    case 'touch':
    case 'incr':
    case 'decr':
      return response !== undefined &&
        (response.status === ResponseStatus.Header || response.status === ResponseStatus.Value)
        ? 'hit'
        : 'miss';
    default:
      return response?.value != null ? 'hit' : 'miss';
  }
}

/** Publishes one message. Call only when `commandChannel.hasSubscribers`. */
export function publishCommand(
  command: CommandName,
  key: string,
  server: string,
  started: number,
  outcome: CommandOutcome,
  error?: unknown,
): void {
  const message: CommandMessage = { command, key, server, durationMs: performance.now() - started, outcome };
  if (error !== undefined) message.error = error instanceof Error ? error : new Error(String(error));
  commandChannel.publish(message);
}
