/**
 * How the Keyv store writes values to memcached: Keyv's serialized strings as UTF-8 with client
 * flags 0, Buffers with flag 4, anything else (a Keyv with `serialize: undefined`) as JSON with
 * flag 2. One home, shared by the store and `singleFlight`, so both write what the other reads.
 */

const FLAG_STRING = 0;
const FLAG_JSON = 2;
const FLAG_BYTES = 4;

export function encode(value: unknown): [Buffer | string, number] {
  if (typeof value === 'string') return [value, FLAG_STRING];
  if (Buffer.isBuffer(value)) return [value, FLAG_BYTES];
  if (value instanceof Uint8Array)
    return [Buffer.from(value.buffer, value.byteOffset, value.byteLength), FLAG_BYTES];
  return [JSON.stringify(value) ?? 'null', FLAG_JSON];
}

export function decode(data: Buffer, flags: number): unknown {
  if (flags === FLAG_BYTES) return data;
  const text = data.toString('utf8');
  return flags === FLAG_JSON ? JSON.parse(text) : text;
}
