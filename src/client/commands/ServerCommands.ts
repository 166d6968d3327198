import { RequestKind } from '../../protocol/ReplyCollector.js';
import { flushAllCommand, statsCommand, versionCommand } from '../../protocol/RequestEncoder.js';
import { wireStatsGroup, wireTtl } from '../../protocol/WireFields.js';
import { type Command, serverCommand } from '../Command.js';
import { identity } from '../ReplyTransforms.js';

/** Builds a server-wide command for one server of the list. */
export type ServerCommandFor<T> = (server: string) => Command<T>;

/**
 * `flush_all [delay]`. The delay is read like a TTL, so it is checked as one: memcached reads a
 * negative or non-numeric delay as "now". Not idempotent in time: a retried flush_all could land
 * after a later write.
 */
export function flushCommand(delaySeconds: unknown): ServerCommandFor<void> {
  const line = flushAllCommand(wireTtl(delaySeconds, 'delaySeconds'));
  return (server) => serverCommand('flush', RequestKind.Flush, server, line, false, identity);
}

export function statsCommandFor(group: unknown): ServerCommandFor<Map<string, string>> {
  const line = statsCommand(group === '' || group === undefined ? null : wireStatsGroup(group, 'group'));
  return (server) => serverCommand('stats', RequestKind.Stats, server, line, true, identity);
}

export function versionCommandFor(): ServerCommandFor<string> {
  const line = versionCommand();
  return (server) => serverCommand('version', RequestKind.Version, server, line, true, identity);
}
