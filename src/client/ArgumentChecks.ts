import { InvalidValueError } from '../component/errors.js';
import { wireTtl } from '../protocol/TtlEncoder.js';

// Argument checks run before anything is sent: a bad argument rejects the call and leaves the
// connection and the data untouched.

/** What `set` and friends accept as a value. */
export type Value = Buffer | Uint8Array | string;

export function toBuffer(value: Value, key: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new InvalidValueError(`Value must be a Buffer, Uint8Array or string, got ${typeof value}`, { key });
}

export function checkCounter(value: number | bigint, name: string, key: string): void {
  const ok =
    typeof value === 'bigint' ? value >= 0n && value < 2n ** 64n : Number.isSafeInteger(value) && value >= 0;
  if (!ok) throw new InvalidValueError(`${name} must be a whole number ≥ 0`, { key });
}

/** Validates a TTL in seconds and converts it to its wire form. */
export function checkTtl(seconds: number, key: string): number {
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new InvalidValueError(`TTL must be a whole number of seconds ≥ 0, got ${String(seconds)}`, { key });
  }
  return wireTtl(seconds);
}
