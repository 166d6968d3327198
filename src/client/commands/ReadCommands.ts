import { type EncodedKey, encodeKey } from '../../protocol/KeyEncoder.js';
import type { MetaResponse } from '../../protocol/MetaResponse.js';
import { RequestKind } from '../../protocol/ReplyCollector.js';
import { metaGetFlags, metaGetMany, metaTouch } from '../../protocol/RequestEncoder.js';
import { cappedTtl, type WireTtl, wireTtl } from '../../protocol/WireFields.js';
import {
  type Command,
  ITEM_FLAGS,
  ITEM_TTL_FLAGS,
  keyCommand,
  MetaGatCommand,
  MetaGetCommand,
  type StaleWinHandler,
} from '../Command.js';
import type { Item, ItemWithTtl, LeasedItem } from '../Item.js';
import { isHeader, isLeasePlaceholder, toItem, toItemWithTtl } from '../ReplyTransforms.js';
import type { CommandLimits } from './CommandLimits.js';

export function getCommand(
  key: string,
  limits: CommandLimits,
  staleWin: StaleWinHandler,
): MetaGetCommand<Item | null> {
  return new MetaGetCommand('get', encodeKey(key, limits.maxKeySize), ITEM_FLAGS, toItem, staleWin);
}

/** A get that also returns the remaining TTL: `get`'s `mg … v f c` and `t`. */
export function getWithTtlCommand(
  key: string,
  limits: CommandLimits,
  staleWin: StaleWinHandler,
): MetaGetCommand<ItemWithTtl | null> {
  return new MetaGetCommand(
    'get',
    encodeKey(key, limits.maxKeySize),
    ITEM_TTL_FLAGS,
    toItemWithTtl,
    staleWin,
  );
}

/** Get and touch: the item, with a new TTL (seconds). */
export function gatCommand(
  key: string,
  ttl: number,
  limits: CommandLimits,
  staleWin: StaleWinHandler,
): MetaGetCommand<Item | null> {
  return new MetaGatCommand(encodeKey(key, limits.maxKeySize), wireTtl(ttl, 'ttl', key), toItem, staleWin);
}

export function touchCommand(key: string, ttl: number, limits: CommandLimits): Command<boolean> {
  const encoded = encodeKey(key, limits.maxKeySize);
  const wire = wireTtl(ttl, 'ttl', key);
  return keyCommand(
    'touch',
    encoded,
    (opaque, ttlCap) => metaTouch(encoded, cappedTtl(wire, ttlCap), opaque),
    isHeader,
    true,
    true,
  );
}

/**
 * `mg … N<lease>`, and `R<refreshAhead>` when it is > 0. A lease of 0 would make the placeholder
 * live forever (memcached's 0 = never expires): the shortest lease is 1 s.
 */
export function leaseCommand(
  key: string,
  leaseTtl: number,
  refreshAhead: number | undefined,
  limits: CommandLimits,
): MetaGetCommand<LeasedItem> {
  const encoded = encodeKey(key, limits.maxKeySize);
  const lease = atLeastOneSecond(wireTtl(leaseTtl, 'leaseTtl', key));
  const ahead =
    refreshAhead === undefined || refreshAhead === 0 ? undefined : wireTtl(refreshAhead, 'refreshAhead', key);
  const flags = metaGetFlags(
    ahead === undefined
      ? { item: true, ttl: true, lease }
      : { item: true, ttl: true, lease, refreshAhead: ahead },
  );
  return new MetaGetCommand('getOrLease', encoded, flags, toLeasedItem);
}

function toLeasedItem(response: MetaResponse): LeasedItem {
  const placeholder = isLeasePlaceholder(response);
  return {
    item: toItem(response),
    win: response.win,
    pending: placeholder && !response.win,
    stale: response.stale,
    ttl: response.ttl === -2 ? null : response.ttl,
  };
}

/** 0 means "never expires" to memcached; where a TTL must end, 0 becomes 1 s. */
export function atLeastOneSecond(ttl: WireTtl): WireTtl {
  return ttl === 0 ? (1 as WireTtl) : ttl;
}

/** A batch read asks for the item flags, quietly: only hits answer, `mn` ends the batch. */
const BATCH_FLAGS = metaGetFlags({ item: true, quiet: true });

/**
 * Quiet `mg`s for one server's share of a getMany, ended by `mn`; hits are added to `result`.
 * A stale item's win handed to a batch read is given back like a plain read's.
 */
export function batchReadCommand(
  keys: readonly EncodedKey[],
  result: Map<string, Item>,
  staleWin: StaleWinHandler,
): Command<void> {
  return {
    name: 'getMany',
    kind: RequestKind.Batch,
    key: keys[0]!,
    keys,
    server: null,
    mutates: false,
    part: (subset) => batchReadCommand(subset, result, staleWin),
    encode: (first) => metaGetMany(keys, BATCH_FLAGS, first),
    data: null,
    idempotent: true,
    decode: (replies: Array<MetaResponse | undefined>) => {
      for (let i = 0; i < keys.length; i++) {
        const reply = replies[i];
        // Quiet: a miss sent nothing, its slot is empty.
        if (reply === undefined) continue;
        if (reply.win && reply.stale) staleWin(keys[i]!, reply);
        const item = toItem(reply);
        if (item !== null) result.set(keys[i]!.key, item);
      }
    },
  };
}
