/**
 * Rendezvous (highest random weight) hashing exactly as pymemcache's `HashClient` does it by
 * default (`pymemcache/client/rendezvous.py`, `RendezvousHash` with `murmur3_32`, seed 0):
 *
 * - a server is named `'%s:%s' % (host, port)` — `127.0.0.1:11211`, the host as configured, no
 *   brackets around IPv6 — or, for a unix socket, its path (`HashClient._make_client_key`);
 * - a key's score on a server is `murmur3_32("<node>-<key>")` over the characters of that Python
 *   string, each taken as `ord(ch) & 0xff` (pymemcache's pure-Python murmur3 does that);
 * - the highest score wins; equal scores go to the greater node name (`max(str(node), …)`).
 *
 * pymemcache hashes the key without its `key_prefix`; so does this selector when used from a
 * `MemcachedClient` whose keys carry no prefix. Weights are ignored (pymemcache has none). A
 * key maps to the same server as long as that server is live; removing a server moves only its
 * own keys.
 */

import { murmur3_32 } from './murmur3.js';
import type { SelectorFactory, ServerSelector, ServerSpec } from './ServerSelector.js';

/** The node name pymemcache's HashClient hashes for a server. */
export function rendezvousNodeName(host: string, port: number): string {
  return port === 0 ? host : `${host}:${port}`;
}

const decoder = new TextDecoder();

/** `ord(ch) & 0xff` of every character of `text`, as pymemcache's murmur3 reads a str. */
function charBytes(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0)! & 0xff);
  return out;
}

export class RendezvousSelector implements ServerSelector {
  readonly ids: readonly string[];
  private readonly names: readonly string[];
  /** `"<node>-"` as byte values, per server. */
  private readonly prefixes: readonly number[][];
  private buffer = new Uint8Array(512);

  constructor(servers: readonly ServerSpec[]) {
    this.ids = servers.map((s) => s.id);
    this.names = servers.map((s) => rendezvousNodeName(s.host, s.port));
    this.prefixes = this.names.map((name) => charBytes(`${name}-`));
  }

  pick(key: Uint8Array): string | undefined {
    const count = this.ids.length;
    if (count === 0) return undefined;
    if (count === 1) return this.ids[0];
    const chars = keyChars(key);
    let best = -1;
    let winner = -1;
    for (let s = 0; s < count; s++) {
      const prefix = this.prefixes[s]!;
      const length = prefix.length + chars.length;
      if (this.buffer.length < length) this.buffer = new Uint8Array(length * 2);
      const buf = this.buffer;
      for (let i = 0; i < prefix.length; i++) buf[i] = prefix[i]!;
      buf.set(chars, prefix.length);
      const score = murmur3_32(buf, 0, length);
      if (score > best || (score === best && this.names[s]! > this.names[winner]!)) {
        best = score;
        winner = s;
      }
    }
    return this.ids[winner];
  }
}

/** The key's characters as pymemcache's murmur3 sees them: ASCII as is, others `ord & 0xff`. */
function keyChars(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i]! >= 0x80) return Uint8Array.from(charBytes(decoder.decode(key)));
  }
  return key;
}

/** SelectorFactory for `MemcachedClientOptions.selector` / `options.distribution: rendezvous`. */
export const rendezvousSelector: SelectorFactory = (servers) => new RendezvousSelector(servers);
