import type { EncodedKey } from '../../protocol/KeyEncoder.js';
import type { WireCas } from '../../protocol/WireFields.js';
import type { Command, StaleWinHandler, WriteKind } from '../Command.js';
import type { Item, ItemWithTtl } from '../Item.js';
import type { CommandLimits } from './CommandLimits.js';
import { type CounterArguments, counterCommand, deleteCommand, invalidateCommand } from './KeyCommands.js';
import { batchReadCommand, gatCommand, getCommand, getWithTtlCommand, touchCommand } from './ReadCommands.js';
import { flushCommand, type ServerCommandFor, statsCommandFor, versionCommandFor } from './ServerCommands.js';
import {
  needsMeta,
  textBatchReadCommand,
  textCounterCommand,
  textDeleteCommand,
  textGetCommand,
  textTouchCommand,
  textWriteCommand,
} from './TextCommands.js';
import { type Value, type WriteArguments, writeCommand } from './WriteCommands.js';

/**
 * The commands of one wire protocol, as the client facade builds them: the meta protocol's, or
 * the classic text protocol's for a proxy (`protocol: 'text'`). What a protocol cannot express
 * throws a ConfigError before anything is sent. (`getOrLease` and counters that create are
 * composed of these by the client, see textEmulation.)
 */
export interface CommandSet {
  get(key: string, limits: CommandLimits, staleWin: StaleWinHandler): Command<Item | null>;
  getWithTtl(key: string, limits: CommandLimits, staleWin: StaleWinHandler): Command<ItemWithTtl | null>;
  gat(key: string, ttl: number, limits: CommandLimits, staleWin: StaleWinHandler): Command<Item | null>;
  touch(key: string, ttl: number, limits: CommandLimits): Command<boolean>;
  batchRead(keys: readonly EncodedKey[], result: Map<string, Item>, staleWin: StaleWinHandler): Command<void>;
  write<T>(
    write: WriteKind<T>,
    key: string,
    value: Value,
    args: WriteArguments | undefined,
    cas: WireCas | null,
    limits: CommandLimits,
  ): Command<T>;
  delete(key: string, cas: unknown, limits: CommandLimits): Command<boolean>;
  invalidate(key: string, staleTtl: number, cas: unknown, limits: CommandLimits): Command<boolean>;
  /** incr/decr; `initial` (create when missing) only where the protocol can (see the client). */
  counter(
    key: string,
    decrement: boolean,
    delta: unknown,
    args: CounterArguments | undefined,
    limits: CommandLimits,
  ): Command<bigint | null>;
  flush(delaySeconds: unknown): ServerCommandFor<void>;
  stats(group: unknown): ServerCommandFor<Map<string, string>>;
  version(): ServerCommandFor<string>;
}

export const META_COMMANDS: CommandSet = Object.freeze<CommandSet>({
  get: getCommand,
  getWithTtl: getWithTtlCommand,
  gat: gatCommand,
  touch: touchCommand,
  batchRead: batchReadCommand,
  write: writeCommand,
  delete: deleteCommand,
  invalidate: invalidateCommand,
  counter: counterCommand,
  flush: flushCommand,
  stats: statsCommandFor,
  version: versionCommandFor,
});

export const TEXT_COMMANDS: CommandSet = Object.freeze<CommandSet>({
  get: (key, limits) => textGetCommand(key, limits),
  getWithTtl: () => {
    throw needsMeta('getWithTtl()', "the text protocol does not return an item's remaining TTL");
  },
  gat: () => {
    throw needsMeta('gat()', 'proxies do not forward get-and-touch; use get() and touch()');
  },
  touch: textTouchCommand,
  batchRead: (keys, result) => textBatchReadCommand(keys, result),
  write: textWriteCommand,
  delete: textDeleteCommand,
  invalidate: () => {
    throw needsMeta('invalidate()', 'the text protocol cannot mark a value stale; use remove()');
  },
  counter: (key, decrement, delta, _args, limits) => textCounterCommand(key, decrement, delta, limits),
  flush: () => {
    throw needsMeta('flush()', 'proxies do not forward flush_all; flush each memcached directly');
  },
  stats: () => {
    throw needsMeta('stats()', 'proxies do not forward stats; ask each memcached directly');
  },
  version: versionCommandFor,
});
