/**
 * Builds request lines. Pure string building: keys arrive already validated and encoded
 * (see KeyEncoder), numbers are produced by this client, so nothing here can inject a command.
 * Every meta request carries an opaque `O` token that the server echoes, which is how the
 * connection proves each response belongs to the request it is matched with.
 */

const CRLF = '\r\n';

/** `mg`: flags such as `v f c t` select what comes back; `q` makes a miss silent. */
export function metaGet(keyToken: string, flags: string, opaque: number): string {
  return `mg ${keyToken} ${flags} O${opaque}${CRLF}`;
}

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
 * The header line of `ms`; the data block and its CRLF follow it. `ttl` is the wire TTL
 * (seconds, or absolute Unix time beyond 30 days), `cas` empty for none. With `invalidate` (and
 * a CAS) the write is stored even when the CAS is older than the item's, but marked stale
 * (memcached's `I` flag): a late write can then never pass for the current value.
 */
export function metaSetHeader(
  keyToken: string,
  length: number,
  ttl: number,
  clientFlags: number,
  mode: SetMode,
  cas: string,
  opaque: number,
  invalidate = false,
): string {
  const modeFlag = mode === SetMode.Set ? '' : ` M${mode}`;
  const casFlag = cas === '' ? '' : invalidate ? ` C${cas} I` : ` C${cas}`;
  // The data length is positional (`ms <key> <datalen> <flags>*`), so a base64 key's ` b` flag
  // must follow it: `ms <b64> b 2` is rejected and its data line then answers an extra `ERROR`.
  if (keyToken.endsWith(' b')) {
    const key = keyToken.slice(0, -2);
    return `ms ${key} ${length} b T${ttl} F${clientFlags}${modeFlag}${casFlag} O${opaque}${CRLF}`;
  }
  return `ms ${keyToken} ${length} T${ttl} F${clientFlags}${modeFlag}${casFlag} O${opaque}${CRLF}`;
}

/**
 * `md … I T<ttl>`: marks the item stale instead of deleting it, for `ttl` more (wire) seconds;
 * readers then get it with `X`, the first of them `W` (optionally only while the CAS matches).
 */
export function metaInvalidate(keyToken: string, ttl: number, cas: string, opaque: number): string {
  const casFlag = cas === '' ? '' : ` C${cas}`;
  return `md ${keyToken} I T${ttl}${casFlag} O${opaque}${CRLF}`;
}

/** `md`, optionally only when the CAS still matches. */
export function metaDelete(keyToken: string, cas: string, opaque: number): string {
  return cas === '' ? `md ${keyToken} O${opaque}${CRLF}` : `md ${keyToken} C${cas} O${opaque}${CRLF}`;
}

/**
 * `ma` returning the new value. With `autoCreateTtl` ≥ 0 a missing counter is created with
 * `initial` (the `N`/`J` flags); otherwise a miss answers `NF`.
 */
export function metaArithmetic(
  keyToken: string,
  decrement: boolean,
  delta: bigint | number,
  initial: bigint | number,
  autoCreateTtl: number,
  opaque: number,
): string {
  const mode = decrement ? ' MD' : '';
  const create = autoCreateTtl >= 0 ? ` N${autoCreateTtl} J${initial}` : '';
  return `ma ${keyToken} v D${delta}${mode}${create} O${opaque}${CRLF}`;
}

/** `mg` with `T` only: update the TTL without fetching (touch). */
export function metaTouch(keyToken: string, ttl: number, opaque: number): string {
  return `mg ${keyToken} T${ttl} O${opaque}${CRLF}`;
}

/** Ends a pipelined batch of quiet requests: the server answers `MN` after all of them. */
export function metaNoop(): string {
  return `mn${CRLF}`;
}

export function versionCommand(): string {
  return `version${CRLF}`;
}

export function statsCommand(group: string): string {
  return group === '' ? `stats${CRLF}` : `stats ${group}${CRLF}`;
}

export function flushAllCommand(delaySeconds: number): string {
  return delaySeconds > 0 ? `flush_all ${delaySeconds}${CRLF}` : `flush_all${CRLF}`;
}

/**
 * memcached's ASCII authentication (`-Y`): the first command is a classic `set` whose data is
 * `<username> <password>`; the key, flags and TTL are ignored. Answers `STORED` or an error.
 */
export function authenticationCommand(username: string, password: string): Buffer {
  const data = Buffer.from(`${username} ${password}`, 'utf8');
  return Buffer.concat([Buffer.from(`set _auth 0 0 ${data.length}${CRLF}`), data, Buffer.from(CRLF)]);
}
