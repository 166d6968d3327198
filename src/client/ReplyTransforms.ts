import type { MetaResponse } from '../protocol/MetaResponse.js';
import { ResponseStatus } from '../protocol/ResponseStatus.js';
import type { Item, ItemWithTtl } from './Item.js';

// Turn a raw reply into what a client method resolves with. Plain functions, shared by every
// call, so a call allocates no closure for its result.

export function identity<T>(reply: T): T {
  return reply;
}

export function isHeader(reply: MetaResponse): boolean {
  return reply.status === ResponseStatus.Header;
}

export function toVoid(): void {}

/** A counter is an unsigned 64-bit number: a bigint, exact beyond 2^53. */
export function toCounter(reply: MetaResponse): bigint | null {
  if (reply.status === ResponseStatus.NotFound) return null;
  // memcached pads a shrinking counter with spaces ("7  " after "105" was decremented).
  return BigInt(reply.value!.toString('latin1').trim());
}

/**
 * A lease placeholder: the empty flags-0 item memcached creates for `mg … N` on a miss, which the
 * lease winner has not replaced yet (it carries W or Z and is not stale). The one home of that
 * rule: a real empty value another client wrote carries neither flag and is a hit.
 */
export function isLeasePlaceholder(response: MetaResponse): boolean {
  return (
    response.value !== null &&
    response.value.length === 0 &&
    response.clientFlags === 0 &&
    (response.win || response.winSent) &&
    !response.stale
  );
}

/**
 * `toItem` plus the remaining TTL the read asked for (ITEM_TTL_FLAGS); memcached's -1 (never
 * expires) becomes null.
 */
export function toItemWithTtl(response: MetaResponse | undefined): ItemWithTtl | null {
  const item = toItem(response);
  if (item === null) return null;
  const ttl = response!.ttl;
  return { ...item, ttl: ttl < 0 ? null : ttl };
}

/** The item of a read; null for a miss and for a lease placeholder (nothing is stored yet). */
export function toItem(response: MetaResponse | undefined): Item | null {
  if (response === undefined || response.value === null || isLeasePlaceholder(response)) return null;
  return { value: response.value, flags: response.clientFlags, cas: response.cas };
}
