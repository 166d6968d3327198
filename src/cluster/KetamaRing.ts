/**
 * Consistent hashing identical to libmemcached's weighted ketama
 * (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`; pylibmc `behaviors={"ketama_weighted": True}`), as built
 * by `update_continuum()` in libmemcached's hosts.cc and looked up by `dispatch_host()` in hash.cc:
 *
 * - Each server gets `floor(pct × 160 / 4 × n + 1e-10) × 4` points, where `pct = weight / total`
 *   and `n` is the number of servers in the ring, all evaluated in **single-precision float** as
 *   the C code does (emulated with `Math.fround`). Equal weights give 160 points each.
 * - The points of server `s` come from MD5 digests of `"<host>-<i>"` when its port is 11211, else
 *   `"<host>:<port>-<i>"`, for i = 0, 1, …; each digest gives 4 points, its little-endian uint32s.
 * - Points are sorted by value, ties broken by server position (libmemcached's
 *   `continuum_item_cmp`).
 * - A key hashes to bytes 0–3 of MD5(key), little-endian; it belongs to the first point whose
 *   value is ≥ the hash, wrapping to the first point. With one server, no hashing happens at all.
 *
 * Server order matters only for ties; libmemcached keeps configuration order unless
 * `MEMCACHED_BEHAVIOR_SORT_HOSTS` is set, and so does this class.
 */

import { md5Word0, md5Words } from './md5.js';
import type { ServerSelector, ServerSpec } from './ServerSelector.js';

/** libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA. */
export const KETAMA_POINTS_PER_SERVER = 160;
/** libmemcached's MEMCACHED_DEFAULT_PORT: the port left out of the point strings. */
export const KETAMA_DEFAULT_PORT = 11211;

const f32 = Math.fround;
const EPSILON_F32 = f32(0.0000000001);
const encoder = new TextEncoder();

/** The number of continuum points libmemcached gives a server of `weight` out of `totalWeight`. */
export function ketamaPointCount(weight: number, totalWeight: number, serverCount: number): number {
  // float pct = (float) weight / (float) total_weight;
  const pct = f32(f32(weight) / f32(totalWeight));
  // floor((float)(pct * 160 / 4 * (float) live_servers + 0.0000000001F)) * 4, every step in float
  let x = f32(pct * KETAMA_POINTS_PER_SERVER);
  x = f32(x / 4);
  x = f32(x * f32(serverCount));
  x = f32(x + EPSILON_F32);
  return Math.floor(x) * 4;
}

/** The string libmemcached hashes for point group `index` of a server. */
export function ketamaPointKey(host: string, port: number, index: number): string {
  return port === KETAMA_DEFAULT_PORT ? `${host}-${index}` : `${host}:${port}-${index}`;
}

function normalizedWeight(weight: number | undefined): number {
  if (weight === undefined || weight === 0) return 1;
  if (!Number.isInteger(weight) || weight < 0 || weight > 0xffffffff) {
    throw new RangeError(`server weight must be a positive integer, got ${weight}`);
  }
  return weight;
}

export class KetamaRing implements ServerSelector {
  readonly ids: readonly string[];
  readonly servers: readonly ServerSpec[];
  /** Sorted point values. */
  private readonly points: Uint32Array;
  /** `owners[i]` is the index into `ids` of the server owning `points[i]`. */
  private readonly owners: Uint16Array | Uint32Array;
  /** Set when there is exactly one server: libmemcached skips hashing then. */
  private readonly only: string | undefined;

  constructor(servers: readonly ServerSpec[]) {
    const seen = new Set<string>();
    for (const s of servers) {
      if (seen.has(s.id)) throw new RangeError(`duplicate server id ${s.id}`);
      seen.add(s.id);
    }
    this.servers = servers.slice();
    this.ids = servers.map((s) => s.id);
    const n = servers.length;
    const weights = servers.map((s) => normalizedWeight(s.weight));
    const total = weights.reduce((a, b) => a + b, 0);
    this.only = n === 1 ? servers[0]!.id : undefined;

    const counts = weights.map((w) => ketamaPointCount(w, total, n));
    const size = counts.reduce((a, b) => a + b, 0);
    // Pack (value, server index) into one float64 so a numeric sort gives libmemcached's order:
    // value first, then server position. value < 2^32 and index < 2^20 keep it exact (< 2^52).
    if (n >= 1 << 20) throw new RangeError('too many servers');
    const packed = new Float64Array(size);
    const words = new Uint32Array(4);
    let at = 0;
    for (let s = 0; s < n; s++) {
      const { host, port } = servers[s]!;
      const groups = counts[s]! / 4;
      for (let i = 0; i < groups; i++) {
        md5Words(encoder.encode(ketamaPointKey(host, port, i)), words);
        for (let w = 0; w < 4; w++) packed[at++] = words[w]! * 0x100000 + s;
      }
    }
    packed.sort();
    this.points = new Uint32Array(size);
    this.owners = n <= 0x10000 ? new Uint16Array(size) : new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const v = packed[i]!;
      const value = Math.floor(v / 0x100000);
      this.points[i] = value;
      this.owners[i] = v - value * 0x100000;
    }
  }

  /** How many continuum points the ring holds (160 × servers for equal weights). */
  get size(): number {
    return this.points.length;
  }

  /** The server for `key` (raw UTF-8 bytes), or `undefined` when the ring is empty. */
  pick(key: Uint8Array): string | undefined {
    if (this.only !== undefined) return this.only;
    const points = this.points;
    const n = points.length;
    if (n === 0) return undefined;
    const hash = md5Word0(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.ids[this.owners[lo === n ? 0 : lo]!];
  }

  /** `pick` for a string key, UTF-8 encoded. */
  pickString(key: string): string | undefined {
    return this.pick(encoder.encode(key));
  }

  /**
   * A new ring over the servers not in `ids` — what libmemcached builds when auto-eject takes
   * servers out (it rebuilds the continuum from the live servers, recomputing weights over them).
   */
  without(ids: Iterable<string>): KetamaRing {
    const drop = new Set(ids);
    return new KetamaRing(this.servers.filter((s) => !drop.has(s.id)));
  }

  /** The key hash libmemcached uses: MD5(key) bytes 0–3, little-endian. */
  static hash(key: Uint8Array): number {
    return md5Word0(key);
  }

  /** The point values and owners, in order (for tests and diagnostics). */
  continuum(): { value: number; id: string }[] {
    return Array.from(this.points, (value, i) => ({ value, id: this.ids[this.owners[i]!]! }));
  }
}

/** A `SelectorFactory` building ketama rings. */
export function ketamaSelector(servers: readonly ServerSpec[]): KetamaRing {
  return new KetamaRing(servers);
}
