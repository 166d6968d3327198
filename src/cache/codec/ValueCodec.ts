/** What a codec produces for memcached: the bytes and the 32-bit client flags that tag them. */
export interface EncodedValue {
  data: Buffer;
  flags: number;
}

/**
 * Turns cache values into bytes + client flags and back. The flags say how to decode, so data
 * written by other clients (pip-services4 in Node or Python, the `memcached` npm package) can be
 * read, and data we write can be read by them.
 */
export interface ValueCodec {
  /** Throws InvalidValueError for values that cannot be encoded (BigInt, cycles). */
  encode(value: unknown, key: string): EncodedValue;
  decode(data: Buffer, flags: number, key: string): unknown;
  /**
   * Optional. A promise of the decoded value when decoding `data` at once could block the event
   * loop for long; null when `decode` may be called at once (the common case, checked first on
   * every read, so it must be cheap). JsonCodec: a compressed value that may inflate to more
   * than 1 MiB is inflated on libuv's thread pool.
   */
  decodeLater?(data: Buffer, flags: number, key: string): Promise<unknown> | null;
}

/**
 * Client flags. 0 is what pip-services4 writes in both Node (`JSON.stringify` through the
 * `memcached` package) and Python (`json.dumps` through pymemcache); 2, 4 and 8 are the
 * `memcached` npm package's own tags for values it serialised itself.
 */
export const ValueFlags = {
  /** UTF-8 JSON text. Not JSON → read as the plain string (written by another client). */
  Json: 0,
  /** `memcached` npm FLAG_JSON: JSON text. Read only. */
  NpmJson: 2,
  /** Raw bytes (`Buffer`/`Uint8Array`); also the `memcached` npm FLAG_BINARY. */
  Bytes: 4,
  /** `memcached` npm FLAG_NUMERIC: a number as text. Read only. */
  NpmNumeric: 8,
  /** Bit set when the data is deflate-compressed (ours; above `compression_threshold`). */
  Compressed: 0x10000,
} as const;
