import { wireTtl, wireUint64 } from '../protocol/WireFields.js';
import type { CallOptions } from './CallExecutor.js';
import { needsMeta, TEXT_LEASE_FLAGS } from './commands/TextCommands.js';
import type { LeasedItem } from './Item.js';
import type { CounterOptions, LeaseOptions, MemcachedClient } from './MemcachedClient.js';

/*
 * What the meta protocol does in one command and the text protocol needs two for, behind a proxy
 * (`protocol: 'text'`). Each step is an ordinary command through the same client, so routing,
 * retries and deadlines apply to each.
 */

/**
 * `getOrLease` without meta leases: a hit is returned as it is; on a miss the caller that `add`s
 * an empty placeholder (flags TEXT_LEASE_FLAGS, living `leaseTtl`) wins and must store the value
 * (its `set` replaces the placeholder; a failed load deletes it), and every other caller sees
 * `pending` — reads treat the placeholder as a miss. `add` is atomic on the server, so one
 * caller wins per lease, across processes, as with `mg … N`. No stale values and no
 * refresh-ahead: those need the meta protocol.
 */
export async function leaseByAdd(
  client: MemcachedClient,
  key: string,
  leaseTtl: number,
  options: LeaseOptions | undefined,
): Promise<LeasedItem> {
  if (options?.refreshAhead !== undefined && options.refreshAhead !== 0)
    throw needsMeta(
      'getOrLease() with refreshAhead',
      'the text protocol has no remaining TTL or win token to refresh ahead by',
    );
  // Checked here, passed on as given (a long one is made absolute by the write's own check).
  wireTtl(leaseTtl, 'leaseTtl', key);
  const lease = leaseTtl === 0 ? 1 : leaseTtl;
  const item = await client.get(key, options);
  if (item !== null) return { item, win: false, pending: false, stale: false, ttl: null };
  const won = await client.add(key, '', { ...callOptions(options), ttl: lease, flags: TEXT_LEASE_FLAGS });
  return { item: null, win: won, pending: !won, stale: false, ttl: null };
}

/**
 * incr/decr that create a missing counter (`initial`), as `ma … N J` does: the text `incr`
 * answers NOT_FOUND, then `add` stores the initial value (the result, as in meta); if another
 * caller created it meanwhile (`add` not stored), the delta is applied to theirs.
 */
export async function counterWithCreate(
  client: MemcachedClient,
  key: string,
  decrement: boolean,
  delta: number | bigint,
  options: CounterOptions & { initial: number | bigint },
): Promise<bigint | null> {
  // Both checked before anything is sent, as the meta `ma` checks them (the TTL is used only if
  // the counter is missing, but a bad one is refused either way).
  const initial = wireUint64(options.initial, 'initial', key);
  const ttl = options.ttl ?? 0;
  wireTtl(ttl, 'ttl', key);
  const step = (): Promise<bigint | null> =>
    decrement ? client.decr(key, delta, callOptions(options)) : client.incr(key, delta, callOptions(options));
  const first = await step();
  if (first !== null) return first;
  if (await client.add(key, initial.toString(), { ...callOptions(options), ttl })) return initial;
  return step();
}

/** The per-call options only (signal, failover), without what belongs to one command. */
function callOptions(options: CallOptions | undefined): CallOptions {
  if (options === undefined) return {};
  const { signal, failover } = options;
  return { ...(signal === undefined ? {} : { signal }), ...(failover === undefined ? {} : { failover }) };
}
