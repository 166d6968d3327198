import { ConfigError } from '../../component/errors.js';
import type { EncodedKey } from '../../protocol/KeyEncoder.js';
import { RequestKind } from '../../protocol/ReplyCollector.js';
import { SetMode } from '../../protocol/RequestEncoder.js';
import { type TextReply, TextStatus, type TextValue } from '../../protocol/TextReply.js';
import {
  encodeTextKey,
  type TextKey,
  TextStore,
  textArithmetic,
  textCasDelete,
  textCasHeader,
  textConcatHeader,
  textDelete,
  textGet,
  textKey,
  textStoreHeader,
  textTouch,
} from '../../protocol/TextRequestEncoder.js';
import {
  type WireCas,
  type WireFlags,
  type WireTtl,
  wireCas,
  wireTtl,
  wireUint64,
} from '../../protocol/WireFields.js';
import { type Command, keyCommand, type WriteKind } from '../Command.js';
import type { Item } from '../Item.js';
import type { CommandLimits } from './CommandLimits.js';
import { checkedWrite, type Value, type WriteArguments } from './WriteCommands.js';

/*
 * The client's calls in the classic text protocol (`protocol: 'text'`, behind a proxy such as
 * twemproxy or mcrouter, which forward get/gets/set/add/replace/append/prepend/cas/delete/incr/
 * decr/touch/version and close the connection on meta commands). Each builds the same `Command`
 * the meta calls do, so routing, retries, deadlines and tracing are shared; the request is a text
 * line (TextRequestEncoder: typed parts only) and the reply a TextReply, matched by order.
 */

/**
 * The client flags of a lease placeholder written by `getOrLease` in text mode (`add` of an empty
 * value): reads treat it as a miss. The text protocol has no lease, so the placeholder is an
 * ordinary item; these flags are what tells it from a real empty value.
 */
export const TEXT_LEASE_FLAGS = 0xfeed_1ea5;

/** The error for a call the text protocol cannot express. Nothing is sent. */
export function needsMeta(call: string, why: string): ConfigError {
  return new ConfigError(
    `${call} needs the meta protocol, and this client runs protocol 'text' (for a proxy): ${why}. Use it against memcached itself (protocol 'meta'), or do without it behind the proxy`,
    { details: { protocol: 'text', requestSent: false } },
  );
}

/** `gets <key>`: the item with its CAS (the text protocol cannot return the remaining TTL). */
export function textGetCommand(key: string, limits: CommandLimits): Command<Item | null> {
  const encoded = encodeTextKey(key, limits.maxKeySize);
  const line = textGet([encoded], true);
  return keyCommand('get', encoded, () => line, toTextItem, true, false, RequestKind.TextGet);
}

/** One `gets` line for a server's share of a getMany; hits are added to `result`. */
export function textBatchReadCommand(keys: readonly EncodedKey[], result: Map<string, Item>): Command<void> {
  const textKeys = keys.map(textKey);
  return {
    name: 'getMany',
    kind: RequestKind.TextGet,
    key: keys[0]!,
    keys,
    server: null,
    mutates: false,
    part: (subset) => textBatchReadCommand(subset, result),
    encode: () => textGet(textKeys, true),
    data: null,
    idempotent: true,
    decode: (values: Array<TextValue | undefined>) => {
      for (let i = 0; i < keys.length; i++) {
        const item = toTextItem(values[i] ?? null);
        if (item !== null) result.set(keys[i]!.key, item);
      }
    },
  };
}

/** set/add/replace/append/prepend/cas, from the same checks as the meta writes. */
export function textWriteCommand<T>(
  write: WriteKind<T>,
  key: string,
  value: Value,
  args: WriteArguments | undefined,
  cas: WireCas | null,
  limits: CommandLimits,
): Command<T> {
  if (write.invalidateIfChanged) throw needsMeta(`${write.name}()`, 'it stores a value stale (ms … I)');
  const checked = checkedWrite(key, value, args, limits);
  const encoded = textKey(checked.key);
  const line = storageHeader(write.mode, encoded, checked.data.length, checked.ttl, checked.flags, cas);
  return {
    name: write.name,
    kind: RequestKind.Text,
    key: encoded,
    keys: null,
    server: null,
    mutates: true,
    // A proxy's fronts share one pool: no TTL cap ever applies (see Topology's `interchangeable`).
    encode: () => line,
    data: checked.data,
    idempotent: write.idempotent,
    // `set` resolves nothing (as in meta); the conditional writes say whether they stored.
    decode: (write.name === 'set' ? ignoreReply : isStored) as unknown as (reply: TextReply) => T,
  };
}

function storageHeader(
  mode: SetMode,
  key: TextKey,
  length: number,
  ttl: WireTtl,
  flags: WireFlags,
  cas: WireCas | null,
): string {
  if (cas !== null) return textCasHeader(key, length, ttl, flags, cas);
  switch (mode) {
    case SetMode.Append:
      return textConcatHeader('append', key, length);
    case SetMode.Prepend:
      return textConcatHeader('prepend', key, length);
    case SetMode.Add:
      return textStoreHeader(TextStore.Add, key, length, ttl, flags);
    case SetMode.Replace:
      return textStoreHeader(TextStore.Replace, key, length, ttl, flags);
    default:
      return textStoreHeader(TextStore.Set, key, length, ttl, flags);
  }
}

/**
 * `delete <key>`; with `cas`, a compare-and-delete the text protocol has no command for, made of
 * `cas` with an expiry already past (see `textCasDelete`): atomic on the server, like `md C`.
 */
export function textDeleteCommand(key: string, cas: unknown, limits: CommandLimits): Command<boolean> {
  const encoded = encodeTextKey(key, limits.maxKeySize);
  if (cas === undefined || cas === '')
    return keyCommand('delete', encoded, () => textDelete(encoded), isDeleted, true, true, RequestKind.Text);
  const line = textCasDelete(encoded, wireCas(cas, 'cas', key));
  return keyCommand('delete', encoded, () => line, isStored, false, true, RequestKind.Text, EMPTY);
}

export function textTouchCommand(key: string, ttl: number, limits: CommandLimits): Command<boolean> {
  const encoded = encodeTextKey(key, limits.maxKeySize);
  const line = textTouch(encoded, wireTtl(ttl, 'ttl', key));
  return keyCommand('touch', encoded, () => line, isTouched, true, true, RequestKind.Text);
}

/** `incr`/`decr`: the new value, or null when missing (creating it is the client's, see incr). */
export function textCounterCommand(
  key: string,
  decrement: boolean,
  delta: unknown,
  limits: CommandLimits,
): Command<bigint | null> {
  const encoded = encodeTextKey(key, limits.maxKeySize);
  const line = textArithmetic(encoded, decrement, wireUint64(delta, 'delta', key));
  return keyCommand(
    decrement ? 'decr' : 'incr',
    encoded,
    () => line,
    toTextCounter,
    false,
    true,
    RequestKind.Text,
  );
}

const EMPTY = Buffer.alloc(0);

/** A read's item; null for a miss and for a text-mode lease placeholder (nothing stored yet). */
function toTextItem(value: TextValue | null): Item | null {
  if (value === null || value.value === null) return null;
  if (value.value.length === 0 && value.clientFlags === TEXT_LEASE_FLAGS) return null;
  return { value: value.value, flags: value.clientFlags, cas: value.cas };
}

function ignoreReply(): void {}

function isStored(reply: TextReply): boolean {
  return reply.status === TextStatus.Stored;
}

function isDeleted(reply: TextReply): boolean {
  return reply.status === TextStatus.Deleted;
}

function isTouched(reply: TextReply): boolean {
  return reply.status === TextStatus.Touched;
}

function toTextCounter(reply: TextReply): bigint | null {
  return reply.status === TextStatus.Number ? reply.number : null;
}
