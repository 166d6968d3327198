import { type EncodedKey, encodeKey } from '../../protocol/KeyEncoder.js';
import { metaArithmetic, metaDelete, metaInvalidate } from '../../protocol/RequestEncoder.js';
import { cappedTtl, type WireCas, wireCas, wireTtl, wireUint64 } from '../../protocol/WireFields.js';
import { type Command, keyCommand } from '../Command.js';
import { isHeader, toCounter } from '../ReplyTransforms.js';
import type { CommandLimits } from './CommandLimits.js';
import { atLeastOneSecond } from './ReadCommands.js';

/** An optional CAS argument: absent (or '') means none. */
function optionalCas(cas: unknown, key: string): WireCas | null {
  return cas === undefined || cas === '' ? null : wireCas(cas, 'cas', key);
}

/** `md`; with `cas`, only while the item is still that version. */
export function deleteCommand(key: string, cas: unknown, limits: CommandLimits): Command<boolean> {
  const encoded = encodeKey(key, limits.maxKeySize);
  const wire = optionalCas(cas, key);
  return keyCommand(
    'delete',
    encoded,
    (opaque) => metaDelete(encoded, wire, opaque),
    isHeader,
    wire === null,
    true,
  );
}

/** `md … I T<staleTtl>`: marks the item stale for at least 1 s more instead of deleting it. */
export function invalidateCommand(
  key: string,
  staleTtl: number,
  cas: unknown,
  limits: CommandLimits,
): Command<boolean> {
  const encoded = encodeKey(key, limits.maxKeySize);
  const ttl = atLeastOneSecond(wireTtl(staleTtl, 'staleTtl', key));
  const wire = optionalCas(cas, key);
  return keyCommand(
    'invalidate',
    encoded,
    (opaque, ttlCap) => metaInvalidate(encoded, cappedTtl(ttl, ttlCap), wire, opaque),
    isHeader,
    true,
    true,
  );
}

/**
 * `md … I C<cas>`, no `T`: a plain read hands back the stale item's win it was given (see
 * StaleWinHandler), only while the item is still the version it read, and with the item's expiry
 * left as it is (a stale value that never expires stays so).
 */
export function giveBackWinCommand(key: EncodedKey, cas: string): Command<boolean> {
  const wire = optionalCas(cas, key.key);
  return keyCommand(
    'invalidate',
    key,
    (opaque) => metaInvalidate(key, null, wire, opaque),
    isHeader,
    true,
    true,
  );
}

/** What `incr`/`decr` accept beside the delta. */
export interface CounterArguments {
  initial?: number | bigint;
  ttl?: number;
}

/** `ma`: counters are unsigned 64-bit, so deltas and initial values are checked as such. */
export function counterCommand(
  key: string,
  decrement: boolean,
  delta: unknown,
  args: CounterArguments | undefined,
  limits: CommandLimits,
): Command<bigint | null> {
  const encoded = encodeKey(key, limits.maxKeySize);
  const wireDelta = wireUint64(delta, 'delta', key);
  const initial = args?.initial;
  const create =
    initial === undefined
      ? null
      : { initial: wireUint64(initial, 'initial', key), ttl: wireTtl(args?.ttl ?? 0, 'ttl', key) };
  return keyCommand(
    decrement ? 'decr' : 'incr',
    encoded,
    (opaque, ttlCap) =>
      metaArithmetic(
        encoded,
        decrement,
        wireDelta,
        create === null || ttlCap === null ? create : { ...create, ttl: cappedTtl(create.ttl, ttlCap) },
        opaque,
      ),
    toCounter,
    false,
    true,
  );
}
