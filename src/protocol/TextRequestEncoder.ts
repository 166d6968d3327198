import { InvalidKeyError } from '../component/errors.js';
import { type EncodedKey, encodeKey, isBase64Token, shortKey } from './KeyEncoder.js';
import { RELATIVE_TTL_LIMIT_SECONDS } from './TtlEncoder.js';
import type { WireCas, WireFlags, WireTtl, WireUint64 } from './WireFields.js';

/**
 * Builds classic text-protocol requests — the commands proxies such as twemproxy forward, which
 * close the connection on any meta command. Like RequestEncoder it accepts only typed parts: keys
 * checked by `encodeTextKey`, numbers made by the checks in WireFields, and data lengths this
 * client computes; so nothing a caller passes can end the line and start a second command.
 *
 * There is no opaque token and no key echo for single-key commands: replies are matched by order.
 * So `noreply` is never sent — every request gets exactly one reply (a multi-get's VALUE lines up
 * to END being one) and a missing reply would shift every later one onto the wrong request.
 * Pure: no sockets, no timers.
 */

const CRLF = '\r\n';

declare const textKeyBrand: unique symbol;
/** A key checked by `encodeTextKey`/`textKey`: printable ASCII, no space, token used as it is. */
export type TextKey = EncodedKey & { readonly [textKeyBrand]: true };

/**
 * A key the text protocol can carry. `encodeKey` sends keys with spaces, control or non-ASCII
 * characters base64-encoded with the meta `b` flag; the text protocol has no such flag, and the
 * raw bytes would split the command line (a space) or be mangled (non-ASCII), so such a key is
 * refused here, before anything is sent.
 */
export function textKey(encoded: EncodedKey): TextKey {
  if (isBase64Token(encoded.token)) {
    const key = shortKey(encoded.key);
    throw new InvalidKeyError(
      `Key ${JSON.stringify(key)} has spaces, control or non-ASCII characters: the text protocol ` +
        `(protocol: 'text') cannot carry it, as it has no base64 key flag; use printable ASCII ` +
        `keys, or the meta protocol`,
      { key },
    );
  }
  return encoded as TextKey;
}

/** `encodeKey` (emptiness, length, lone surrogates) followed by the text-protocol check. */
export function encodeTextKey(key: unknown, maxKeyBytes: number): TextKey {
  return textKey(encodeKey(key, maxKeyBytes));
}

/**
 * `get <key>*` / `gets <key>*` (`withCas`: each VALUE line carries the CAS unique). One reply:
 * a VALUE block per hit, in request order, then END. Duplicate keys are the caller's concern
 * (memcached answers each occurrence).
 */
export function textGet(keys: readonly TextKey[], withCas: boolean): string {
  if (keys.length === 0) throw new RangeError('a text get needs at least one key');
  let line = withCas ? 'gets' : 'get';
  for (let i = 0; i < keys.length; i++) line += ` ${keys[i]!.token}`;
  return line + CRLF;
}

/** The storage commands that take flags and a TTL. */
export const TextStore = {
  Set: 'set',
  Add: 'add',
  Replace: 'replace',
} as const;
export type TextStore = (typeof TextStore)[keyof typeof TextStore];

/** The storage commands that extend an existing value (flags and TTL are ignored by memcached). */
export const TextConcat = {
  Append: 'append',
  Prepend: 'prepend',
} as const;
export type TextConcat = (typeof TextConcat)[keyof typeof TextConcat];

/**
 * `set|add|replace <key> <flags> <exptime> <bytes>`: the header line; the data block (`length`
 * bytes) and its CRLF follow it. Replies STORED or NOT_STORED.
 */
export function textStoreHeader(
  command: TextStore,
  key: TextKey,
  length: number,
  ttl: WireTtl,
  clientFlags: WireFlags,
): string {
  return `${command} ${key.token} ${clientFlags} ${ttl} ${length}${CRLF}`;
}

/** `append|prepend <key> 0 0 <bytes>`: flags and TTL are positional but ignored, so sent as 0. */
export function textConcatHeader(command: TextConcat, key: TextKey, length: number): string {
  return `${command} ${key.token} 0 0 ${length}${CRLF}`;
}

/**
 * `cas <key> <flags> <exptime> <bytes> <cas unique>`: stored only while the item's CAS still
 * matches. Replies STORED, EXISTS (changed since read) or NOT_FOUND.
 */
export function textCasHeader(
  key: TextKey,
  length: number,
  ttl: WireTtl,
  clientFlags: WireFlags,
  cas: WireCas,
): string {
  return `cas ${key.token} ${clientFlags} ${ttl} ${length} ${cas}${CRLF}`;
}

/** A storage request as one buffer: the header line, the data block and its CRLF. */
export function withDataBlock(header: string, data: Uint8Array): Buffer {
  const head = Buffer.from(header, 'latin1');
  const request = Buffer.allocUnsafe(head.length + data.length + 2);
  head.copy(request, 0);
  request.set(data, head.length);
  request[request.length - 2] = 13;
  request[request.length - 1] = 10;
  return request;
}

/** `delete <key>`: DELETED or NOT_FOUND. (For a CAS-checked delete see `textCasDelete`.) */
export function textDelete(key: TextKey): string {
  return `delete ${key.token}${CRLF}`;
}

/**
 * A memcached expiry read as an absolute Unix time (above 30 days) that is long past (1970): an
 * item stored with it expires at once.
 */
const LONG_AGO = (RELATIVE_TTL_LIMIT_SECONDS + 1) as WireTtl;

/**
 * Compare-and-delete, which the text protocol has no command for: `cas <key> 0 <long ago> 0
 * <cas>` with an empty data block replaces the item only while its CAS still matches, by an
 * already expired one, which memcached then treats as absent — atomic, like the meta `md … C`,
 * and forwarded by proxies as an ordinary `cas`. STORED (deleted), EXISTS (changed since read) or
 * NOT_FOUND. The empty data block (its CRLF) follows this line.
 */
export function textCasDelete(key: TextKey, cas: WireCas): string {
  return textCasHeader(key, 0, LONG_AGO, 0 as WireFlags, cas);
}

/**
 * `incr|decr <key> <delta>`: the new value, or NOT_FOUND — the text protocol cannot create a
 * missing counter (meta's `N`/`J`); decr stops at 0, incr wraps at 2^64.
 */
export function textArithmetic(key: TextKey, decrement: boolean, delta: WireUint64): string {
  return `${decrement ? 'decr' : 'incr'} ${key.token} ${delta}${CRLF}`;
}

/** `touch <key> <exptime>`: TOUCHED or NOT_FOUND. */
export function textTouch(key: TextKey, ttl: WireTtl): string {
  return `touch ${key.token} ${ttl}${CRLF}`;
}

/** `version`: VERSION <text> (twemproxy answers it from one of its servers). */
export function textVersion(): string {
  return `version${CRLF}`;
}
