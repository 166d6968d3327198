import { type EncodedKey, isBase64Token } from './KeyEncoder.js';
import { opaqueLineEnd } from './opaqueLineEnd.js';
import type { WireCas, WireFlags, WireStatsGroup, WireTtl, WireUint64 } from './WireFields.js';

/**
 * Builds request lines: the one encoder every request goes through. It accepts only typed parts —
 * keys made by `encodeKey`, numbers and tokens made by the checks in WireFields, lengths and
 * opaque tokens this client computes — so nothing a caller passes can end a line and start a
 * second command: injection is impossible by construction, not by a check remembered at each
 * call site. Every meta request carries an opaque `O` token that the server echoes, which is how
 * the connection proves each response belongs to the request it is matched with.
 */

const CRLF = '\r\n';

declare const flagsBrand: unique symbol;
/**
 * The flags of an `mg`, built by `metaGetFlags` from typed parts: each with the space before it
 * (` v f c`, '' for none), so a request line is one string join shorter.
 */
export type MetaGetFlags = string & { readonly [flagsBrand]: true };

export interface MetaGetFields {
  /** Ask for the item: value, client flags and CAS (`v f c`). */
  readonly item?: boolean;
  /**
   * Ask for the remaining TTL too (`t`): only for what returns it (getWithTtl, getOrLease). Every
   * other read goes without: its digits were ~110 instructions of parsing per get (callgrind).
   */
  readonly ttl?: boolean;
  /** Quiet: a miss answers nothing (batches, ended by `mn`). */
  readonly quiet?: boolean;
  /** Touch: set this TTL (`T`). */
  readonly touch?: WireTtl;
  /** Lease: on a miss create a placeholder for this TTL and hand one caller the win (`N`). */
  readonly lease?: WireTtl;
  /** Refresh ahead: hand one caller the win when the remaining TTL is below this (`R`). */
  readonly refreshAhead?: WireTtl;
}

/** `mg` flags from typed parts; the commands build theirs once where they can (see ITEM_FLAGS). */
export function metaGetFlags(fields: MetaGetFields): MetaGetFlags {
  let flags = fields.item ? ' v f c' : '';
  if (fields.ttl) flags += ' t';
  if (fields.touch !== undefined) flags += ` T${fields.touch}`;
  if (fields.lease !== undefined) flags += ` N${fields.lease}`;
  if (fields.refreshAhead !== undefined) flags += ` R${fields.refreshAhead}`;
  if (fields.quiet) flags += ' q';
  return flags as MetaGetFlags;
}

/** `mg`: the flags select what comes back. */
export function metaGet(key: EncodedKey, flags: MetaGetFlags, opaque: number): string {
  // biome-ignore lint/style/useTemplate: a template converts each part with a ToString call; `+` of parts its feedback knows as strings only checks them (~40 instructions per get, callgrind).
  return 'mg ' + key.token + flags + opaqueLineEnd(opaque);
}

/**
 * A batch of `mg`s, one per key with opaques `first`, `first + 1`, …, ended by `mn`: what
 * `metaGet` line by line followed by `metaNoop` would build, with less work per key. An opaque
 * is written as its hundreds (one string for up to 100 keys) and its last two digits from a
 * table, so a key costs two string joins and no number-to-string conversion: that conversion
 * and the extra joins were half the cost of encoding a 100-key getMany.
 */
export function metaGetMany(keys: readonly EncodedKey[], flags: MetaGetFlags, first: number): string {
  const last = keys.length - 1;
  if (last < 0) return metaNoop();
  const flagsAndO = `${flags} O`;
  let hundreds = Math.floor(first / 100);
  let lowDigits = first % 100;
  // Below 100 the opaque has no hundreds and its low digits no leading zero: `O7`, not `O07`.
  let head = hundreds === 0 ? flagsAndO : flagsAndO + hundreds;
  let tails = hundreds === 0 ? TAILS_UNPADDED : TAILS_PADDED;
  let payload = 'mg ';
  for (let i = 0; i < last; i++) {
    payload += keys[i]!.token + head + tails[lowDigits]!;
    if (++lowDigits === 100) {
      lowDigits = 0;
      hundreds++;
      head = flagsAndO + hundreds;
      tails = TAILS_PADDED;
    }
  }
  return `${payload}${keys[last]!.token}${flags}${opaqueLineEnd(first + last)}mn${CRLF}`;
}

/** Last two digits of an opaque, its line end and the next line's `mg `: `07\r\nmg `. */
const TAILS_PADDED = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(2, '0')}${CRLF}mg `);
/** The same for an opaque below 100: `7\r\nmg `. */
const TAILS_UNPADDED = Array.from({ length: 100 }, (_, i) => `${i}${CRLF}mg `);

/** Mode letters of `ms`'s `M` flag. */
export const SetMode = {
  Set: 'S',
  Add: 'E',
  Replace: 'R',
  Append: 'A',
  Prepend: 'P',
} as const;
export type SetMode = (typeof SetMode)[keyof typeof SetMode];

/**
 * The header line of `ms`; the data block (`length` bytes) and its CRLF follow it. `cas` null
 * for none. With `invalidate` (and a CAS) the write is stored even when the CAS is older than
 * the item's, but marked stale (memcached's `I` flag): a late write can then never pass for the
 * current value.
 */
export function metaSetHeader(
  key: EncodedKey,
  length: number,
  ttl: WireTtl,
  clientFlags: WireFlags,
  mode: SetMode,
  cas: WireCas | null,
  opaque: number,
  invalidate = false,
): string {
  // A TTL or client flags of 0 is memcached's default for `ms`, so it is not sent: fewer parts
  // to join for the common set (pipelined, 7,651 → 7,065 instructions per set, callgrind).
  let flags = ttl === 0 ? '' : ` T${ttl}`;
  if (clientFlags !== 0) flags += ` F${clientFlags}`;
  if (mode !== SetMode.Set) flags += ` M${mode}`;
  if (cas !== null) flags += invalidate ? ` C${cas} I` : ` C${cas}`;
  // The data length is positional (`ms <key> <datalen> <flags>*`), so a base64 key's ` b` flag
  // must follow it: `ms <b64> b 2` is rejected and its data line then answers an extra `ERROR`.
  const token = key.token;
  if (isBase64Token(token)) return `ms ${token.slice(0, -2)} ${length} b${flags}${opaqueLineEnd(opaque)}`;
  return `ms ${token} ${length}${flags}${opaqueLineEnd(opaque)}`;
}

/**
 * `md … I T<ttl>`: marks the item stale instead of deleting it, for `ttl` more (wire) seconds, or
 * for what is left of its TTL when `ttl` is null (no `T`: memcached keeps the item's expiry);
 * readers then get it with `X`, the first of them `W` (optionally only while the CAS matches).
 */
export function metaInvalidate(
  key: EncodedKey,
  ttl: WireTtl | null,
  cas: WireCas | null,
  opaque: number,
): string {
  const ttlFlag = ttl === null ? '' : ` T${ttl}`;
  const casFlag = cas === null ? '' : ` C${cas}`;
  return `md ${key.token} I${ttlFlag}${casFlag}${opaqueLineEnd(opaque)}`;
}

/** `md`, optionally only when the CAS still matches; `quiet` answers only a failure (`q`). */
export function metaDelete(key: EncodedKey, cas: WireCas | null, opaque: number, quiet = false): string {
  const casFlag = cas === null ? '' : ` C${cas}`;
  return `md ${key.token}${casFlag}${quiet ? ' q' : ''}${opaqueLineEnd(opaque)}`;
}

/** How `ma` creates a missing counter: with `initial`, living `ttl`. */
export interface CounterCreation {
  readonly initial: WireUint64;
  readonly ttl: WireTtl;
}

/**
 * `ma` returning the new value. With `create` a missing counter is created (the `N`/`J` flags);
 * otherwise a miss answers `NF`.
 */
export function metaArithmetic(
  key: EncodedKey,
  decrement: boolean,
  delta: WireUint64,
  create: CounterCreation | null,
  opaque: number,
): string {
  const mode = decrement ? ' MD' : '';
  const creation = create === null ? '' : ` N${create.ttl} J${create.initial}`;
  return `ma ${key.token} v D${delta}${mode}${creation}${opaqueLineEnd(opaque)}`;
}

/** `mg` with `T` only: update the TTL without fetching (touch). */
export function metaTouch(key: EncodedKey, ttl: WireTtl, opaque: number): string {
  return `mg ${key.token} T${ttl}${opaqueLineEnd(opaque)}`;
}

/** Ends a pipelined batch of quiet requests: the server answers `MN` after all of them. */
export function metaNoop(): string {
  return `mn${CRLF}`;
}

export function versionCommand(): string {
  return `version${CRLF}`;
}

export function statsCommand(group: WireStatsGroup | null): string {
  return group === null ? `stats${CRLF}` : `stats ${group}${CRLF}`;
}

/** `flush_all [delay]`: the delay is read like a TTL (absolute beyond 30 days). */
export function flushAllCommand(delay: WireTtl): string {
  return delay > 0 ? `flush_all ${delay}${CRLF}` : `flush_all${CRLF}`;
}

/**
 * memcached's ASCII authentication (`-Y`): the first command is a classic `set` whose data is
 * `<username> <password>`; the key, flags and TTL are ignored. Answers `STORED` or an error.
 * Both go in the length-framed data block, never on the command line.
 */
export function authenticationCommand(username: string, password: string): Buffer {
  const data = Buffer.from(`${username} ${password}`, 'utf8');
  return Buffer.concat([Buffer.from(`set _auth 0 0 ${data.length}${CRLF}`), data, Buffer.from(CRLF)]);
}
