// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { InvalidValueError, ValueTooLargeError } from '../../component/errors.js';
import { type EncodedKey, encodeKey } from '../../protocol/KeyEncoder.js';
import { SetMode } from '../../protocol/RequestEncoder.js';
import { type WireCas, type WireFlags, type WireTtl, wireFlags, wireTtl } from '../../protocol/WireFields.js';
import { MetaSetCommand, type WriteKind } from '../Command.js';
import { isHeader, toVoid } from '../ReplyTransforms.js';
import type { CommandLimits } from './CommandLimits.js';

/** What `set` and friends accept as a value. */
export type Value = Buffer | Uint8Array | string;

/** A write's TTL (seconds; 0, the default, never expires) and 32-bit client flags. */
export interface WriteArguments {
  ttl?: number;
  flags?: number;
}

/**
 * Validates one write (key, value size, TTL, flags) and builds its command; throws on a bad
 * argument, naming it, before anything is sent. `cas` is already a checked wire CAS (or null).
 */
export function writeCommand<T>(
  write: WriteKind<T>,
  key: string,
  value: Value,
  args: WriteArguments | undefined,
  cas: WireCas | null,
  limits: CommandLimits,
): MetaSetCommand<T> {
  const { key: encoded, data, ttl, flags } = checkedWrite(key, value, args, limits);
  return new MetaSetCommand(write, encoded, data, ttl, flags, cas);
}

/** A write's checked parts, whatever the protocol: key, value bytes within max_value, TTL, flags. */
export interface CheckedWrite {
  key: EncodedKey;
  data: Buffer;
  ttl: WireTtl;
  flags: WireFlags;
}

export function checkedWrite(
  key: string,
  value: Value,
  args: WriteArguments | undefined,
  limits: CommandLimits,
): CheckedWrite {
  const encoded = encodeKey(key, limits.maxKeySize);
  const data = toBuffer(value, key);
  if (data.length > limits.maxValueSize) {
    throw new ValueTooLargeError(
      `Value for the key is ${data.length} bytes; the limit is ${limits.maxValueSize} (max_value)`,
      { key, details: { requestSent: false } },
    );
  }
  return {
    key: encoded,
    data,
    ttl: wireTtl(args?.ttl ?? 0, 'ttl', key),
    flags: wireFlags(args?.flags ?? 0, 'flags', key),
  };
}

function toBuffer(value: Value, key: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new InvalidValueError(
    `value must be a Buffer, Uint8Array or string, got ${value === null ? 'null' : typeof value}`,
    { key, details: { argument: 'value', requestSent: false } },
  );
}

export const WRITE_SET: WriteKind<void> = {
  name: 'set',
  mode: SetMode.Set,
  idempotent: true,
  decode: toVoid,
};
export const WRITE_ADD: WriteKind<boolean> = {
  name: 'add',
  mode: SetMode.Add,
  idempotent: false,
  decode: isHeader,
};
export const WRITE_REPLACE: WriteKind<boolean> = {
  name: 'replace',
  mode: SetMode.Replace,
  idempotent: false,
  decode: isHeader,
};
export const WRITE_APPEND: WriteKind<boolean> = {
  name: 'append',
  mode: SetMode.Append,
  idempotent: false,
  decode: isHeader,
};
export const WRITE_PREPEND: WriteKind<boolean> = {
  name: 'prepend',
  mode: SetMode.Prepend,
  idempotent: false,
  decode: isHeader,
};
export const WRITE_CAS: WriteKind<boolean> = {
  name: 'cas',
  mode: SetMode.Set,
  idempotent: false,
  decode: isHeader,
};
/** `ms … I C<cas>`: stored either way; stale when the item changed since `cas` was read. */
export const WRITE_REVALIDATE: WriteKind<void> = {
  name: 'revalidate',
  mode: SetMode.Set,
  idempotent: true,
  decode: toVoid,
  invalidateIfChanged: true,
};
