/**
 * `node:diagnostics_channel` instrumentation of the client. Commands are traced on the
 * TracingChannel `memcached-cache:command` (see transport/tracing.ts for the event order): one
 * traced action per request sent — a `getMany` is one per server it reads from, with
 * `keyCount`/`batchSize`. Connections are traced on `memcached-cache:connect`. Server-list
 * changes are published on the plain channel `memcached-cache:topology`.
 *
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel';
 * tracingChannel('memcached-cache:command').subscribe({
 *   start(context) {}, end() {}, asyncStart() {}, error(context) {},
 *   asyncEnd(context) { console.log(context.command, context.serverAddress, context.error); },
 * });
 * ```
 *
 * Nothing is built when nobody subscribes. Contexts never carry the value: values may be secrets.
 */
import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { ResponseStatus } from '../protocol/ResponseStatus.js';
import { TextReply, TextStatus, TextValue } from '../protocol/TextReply.js';
import type { ServerAttributes } from '../transport/tracing.js';

export const COMMAND_TRACING = 'memcached-cache:command';

/** The context of one traced command (`memcached-cache:command`), filled in as it runs. */
export interface CommandTraceContext extends ServerAttributes {
  readonly command: CommandName;
  /** The key as sent (after any key prefix), for single-key commands. Never the value. */
  key?: string;
  /** For a batch read (`getMany`): the number of keys in this request, also as `batchSize`. */
  keyCount?: number;
  batchSize?: number;
  /**
   * Single-key commands: `hit`/`miss` for reads, touch, incr, decr; `stored`/`not_stored` for
   * writes; `deleted`/`not_found` for delete. Set once the reply arrived.
   */
  outcome?: CommandOutcome;
  /** Single-key reads (get, gat, getOrLease): whether the key was found. */
  hit?: boolean;
  /** Batch reads: how many of the keys were found. */
  hits?: number;
  /** Set when the command failed (and on the `error` event). */
  error?: unknown;
}

/** `tracing:memcached-cache:command:{start,end,asyncStart,asyncEnd,error}`. */
export const commandTracing: TracingChannel<unknown, CommandTraceContext> = tracingChannel(COMMAND_TRACING);

export {
  type OutageReplayed,
  REPLAY_CHANNEL,
  TOPOLOGY_CHANNEL,
  type TopologyChange,
  topologyChannel,
} from '../topology/TopologyChange.js';

export type CommandOutcome =
  | 'hit'
  | 'miss'
  | 'stored'
  | 'not_stored'
  | 'deleted'
  | 'invalidated'
  | 'not_found';

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
  | 'invalidate'
  | 'revalidate'
  | 'incr'
  | 'decr'
  | 'flush'
  | 'stats'
  | 'version';

/** The outcome of one reply for `command`. */
export function outcomeOf(
  command: CommandName,
  response: MetaResponse | TextReply | TextValue | null | undefined,
): CommandOutcome {
  if (response instanceof TextReply) return textOutcomeOf(command, response);
  if (response == null || response instanceof TextValue) return response?.value != null ? 'hit' : 'miss';
  switch (command) {
    case 'set':
    case 'add':
    case 'replace':
    case 'append':
    case 'prepend':
    case 'cas':
    case 'revalidate':
      return response?.status === ResponseStatus.Header ? 'stored' : 'not_stored';
    case 'delete':
      return response?.status === ResponseStatus.Header ? 'deleted' : 'not_found';
    case 'invalidate':
      return response?.status === ResponseStatus.Header ? 'invalidated' : 'not_found';
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

/** The same, for a text-protocol reply line (`protocol: 'text'`). */
function textOutcomeOf(command: CommandName, reply: TextReply): CommandOutcome {
  switch (command) {
    case 'delete':
      // A compare-and-delete is a `cas` (STORED), a plain one a `delete` (DELETED).
      return reply.status === TextStatus.Deleted || reply.status === TextStatus.Stored
        ? 'deleted'
        : 'not_found';
    case 'touch':
    case 'incr':
    case 'decr':
      return reply.status === TextStatus.Touched || reply.status === TextStatus.Number ? 'hit' : 'miss';
    default:
      return reply.status === TextStatus.Stored ? 'stored' : 'not_stored';
  }
}
