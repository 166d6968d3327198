import type { MetaResponse } from '../protocol/MetaResponse.js';
import { ResponseStatus } from '../protocol/ResponseStatus.js';
import type { Item } from './Item.js';

// Turn a raw reply into what a client method resolves with. Plain functions, shared by every
// call, so a call allocates no closure for its result.

export function identity<T>(reply: T): T {
  return reply;
}

export function isHeader(reply: MetaResponse): boolean {
  return reply.status === ResponseStatus.Header;
}

export function toVoid(): void {}

export function toCounter(reply: MetaResponse): number | null {
  if (reply.status === ResponseStatus.NotFound) return null;
  // memcached pads a shrinking counter with spaces ("7  " after "105" was decremented).
  return Number(reply.value!.toString('latin1'));
}

export function toItem(response: MetaResponse | undefined): Item | null {
  if (response === undefined || response.value === null) return null;
  return { value: response.value, flags: response.clientFlags, cas: response.cas };
}
