// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { InvalidKeyError } from '../component/errors.js';

/** memcached's limit on the key token as it appears on the wire. */
export const MAX_WIRE_KEY_BYTES = 250;

/**
 * A key that can go on the wire as it is: printable ASCII, no space. A compiled regex: half the
 * time of a charCodeAt loop on a 30-character key (52 vs 105 ns, measured).
 */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** In a `u` regex a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /\p{Cs}/u;

declare const keyBrand: unique symbol;
/** A key token checked by `encodeKey`: printable ASCII without spaces, or base64 plus ` b`. */
export type WireKey = string & { readonly [keyBrand]: true };

/** A key ready for the wire. */
export interface EncodedKey {
  /**
   * The key token followed, for base64 keys, by the ` b` flag — so it can be placed right
   * after the command name: `mg ${token} v` (`metaSetHeader` moves ` b` after the data length).
   */
  readonly token: WireKey;
  /** UTF-8 bytes of the key as the user gave it: what consistent hashing uses. */
  bytes: Buffer | null;
  /** The key itself, for routing and error messages. */
  key: string;
}

/**
 * Validates a key and picks its wire form. Printable ASCII keys go as they are; keys with
 * spaces, control characters or non-ASCII bytes are sent base64-encoded with the `b` flag, so
 * they round-trip and can never smuggle a command (`"x\r\nflush_all"`) onto the wire.
 *
 * `maxKeyBytes` bounds the UTF-8 length of the key; the base64 form must also fit memcached's
 * 250-byte token limit (so a binary key may be at most 186 bytes).
 */
export function encodeKey(key: unknown, maxKeyBytes: number): EncodedKey {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(`Key must be a string, got ${key === null ? 'null' : typeof key}`);
  }
  const length = key.length;
  if (length === 0) throw new InvalidKeyError('Key must not be empty', { key });
  // The first character is read before the regex: a key built per call (`user:${id}`, 13
  // characters or more) is a rope, and reading a character flattens it, which a regex does only
  // through V8's slow runtime path (callgrind, building a 28-character key and checking it: 1,825
  // → 1,353 instructions per call; 18 more for a key that is already flat).
  if (
    length <= maxKeyBytes &&
    length <= MAX_WIRE_KEY_BYTES &&
    key.charCodeAt(0) > 32 &&
    PRINTABLE_ASCII.test(key)
  )
    return { token: key as WireKey, bytes: null, key };
  // UTF-8 has no form for a lone surrogate: Buffer.from would turn every one into U+FFFD, so
  // distinct keys ('\uD800', '\uDBFF') would silently share one cache entry.
  if (LONE_SURROGATE.test(key)) {
    throw new InvalidKeyError('Key contains an unpaired UTF-16 surrogate, which has no UTF-8 form', {
      key: shortKey(key),
    });
  }
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > maxKeyBytes) {
    throw new InvalidKeyError(
      `Key is ${bytes.length} bytes long; the limit is ${maxKeyBytes} (max_key_size)`,
      {
        key: shortKey(key),
      },
    );
  }
  // A printable ASCII key that got here is only too long for the wire, not unsafe.
  const base64 = bytes.toString('base64');
  if (base64.length > MAX_WIRE_KEY_BYTES) {
    throw new InvalidKeyError(
      `Key needs base64 on the wire (it has spaces, control or non-ASCII characters) and is then ` +
        `${base64.length} bytes; memcached accepts ${MAX_WIRE_KEY_BYTES} (at most 186 raw bytes)`,
      { key: shortKey(key) },
    );
  }
  return { token: `${base64} b` as WireKey, bytes, key };
}

/** Bytes of the key for hashing, computed only when routing needs them. */
export function keyBytes(encoded: EncodedKey): Buffer {
  if (encoded.bytes === null) encoded.bytes = Buffer.from(encoded.key, 'latin1');
  return encoded.bytes;
}

/**
 * Whether a key token is base64 followed by the ` b` flag. A key token has no space of its own,
 * so a space second to last is that flag (two char codes: `endsWith` cost ~140 instructions per
 * set, measured with callgrind).
 */
export function isBase64Token(token: WireKey): boolean {
  return token.charCodeAt(token.length - 2) === 32;
}

/** Errors name the key, but a huge key is cut so logs stay readable: at most 64 characters. */
export function shortKey(key: string): string {
  return key.length > 64 ? `${key.slice(0, 61)}...` : key;
}
