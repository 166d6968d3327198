/**
 * JSON normalisation of cached values, so in-process caches return what `MemcachedCache` returns.
 *
 * `MemcachedCache` writes values as JSON text (pip-services4's format) and bytes as bytes, so what
 * comes back is never the object that was stored: a `Date` becomes its ISO string, `undefined`
 * becomes `null`, class instances become plain objects, and later changes to either the stored
 * object or a retrieved one do not affect the cache. `MemoryCache` keeps a snapshot taken the same
 * way, so code tested against it behaves the same against memcached.
 *
 * - `Buffer` / `Uint8Array` → a `Buffer` copy (the codec gives bytes a flag of their own).
 * - anything else → `JSON.parse(JSON.stringify(value))`; `undefined`, functions and symbols → `null`.
 * - values JSON cannot encode (`BigInt`, cycles, a throwing `toJSON`) → `InvalidValueError` naming
 *   the key (never the value: it may be a secret).
 */
import { jsonText } from './codec/jsonText.js';

/** An immutable encoded form of a value; `restoreValue` turns it into a fresh copy each time. */
export type ValueSnapshot =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'json'; readonly text: string };

const NULL_SNAPSHOT: ValueSnapshot = Object.freeze({ kind: 'json', text: 'null' });

/** Encodes `value` once; throws `InvalidValueError` (naming `key`) when JSON cannot encode it. */
export function snapshotValue(value: unknown, key?: string, traceId?: string | null): ValueSnapshot {
  if (value instanceof Uint8Array) {
    // Buffer.from(Uint8Array) copies, so later changes to the caller's bytes do not leak in.
    return { kind: 'bytes', bytes: Buffer.from(value) };
  }
  if (value === undefined || value === null) return NULL_SNAPSHOT;
  const text = jsonText(value, key, traceId);
  // JSON.stringify returns undefined for functions and symbols: JSON semantics make them null.
  return text === undefined ? NULL_SNAPSHOT : { kind: 'json', text };
}

/** A fresh copy of the snapshotted value: a new `Buffer`, or freshly parsed JSON. */
export function restoreValue(snapshot: ValueSnapshot): any {
  if (snapshot.kind === 'bytes') return Buffer.from(snapshot.bytes);
  return JSON.parse(snapshot.text);
}

/** True when the snapshot decodes to `null`. */
export function isNullSnapshot(snapshot: ValueSnapshot): boolean {
  return snapshot.kind === 'json' && snapshot.text === 'null';
}

/**
 * The value as it would come back from `MemcachedCache`: a `Buffer` copy for bytes, otherwise a
 * JSON round trip (`Date` → ISO string, `undefined` → `null`, objects deep-copied).
 * Throws `InvalidValueError` naming `key` for `BigInt`s and cycles.
 */
export function jsonCopy(value: unknown, key?: string, traceId?: string | null): any {
  return restoreValue(snapshotValue(value, key, traceId));
}
