/**
 * A small, allocation-free MD5 for routing keys. Node's `createHash('md5')` costs ≈ 3 µs per key
 * (object creation + native call); this runs the same compression function in JavaScript and is
 * roughly an order of magnitude faster for memcached-sized keys (≤ 250 bytes). Its output is
 * checked against node:crypto by the tests (property test over random byte strings).
 *
 * Words are returned as the digest's little-endian uint32s: word 0 is bytes 0–3 read
 * little-endian, which is exactly what libmemcached's `hashkit_md5` / `ketama_server_hash` use.
 */

const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

const S = new Uint8Array([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
]);

const G = new Uint8Array(64);
for (let i = 0; i < 64; i++) {
  if (i < 16) G[i] = i;
  else if (i < 32) G[i] = (5 * i + 1) & 15;
  else if (i < 48) G[i] = (3 * i + 5) & 15;
  else G[i] = (7 * i) & 15;
}

const M = new Int32Array(16);
const TAIL = new Uint8Array(128);
const STATE = new Int32Array(4);

function compress(): void {
  const a0 = STATE[0]!;
  const b0 = STATE[1]!;
  const c0 = STATE[2]!;
  const d0 = STATE[3]!;
  let a = a0;
  let b = b0;
  let c = c0;
  let d = d0;
  let t: number;
  let s: number;
  for (let i = 0; i < 16; i++) {
    t = (a + ((b & c) | (~b & d)) + K[i]! + M[i]!) | 0;
    s = S[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let i = 16; i < 32; i++) {
    t = (a + ((d & b) | (~d & c)) + K[i]! + M[G[i]!]!) | 0;
    s = S[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let i = 32; i < 48; i++) {
    t = (a + (b ^ c ^ d) + K[i]! + M[G[i]!]!) | 0;
    s = S[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  for (let i = 48; i < 64; i++) {
    t = (a + (c ^ (b | ~d)) + K[i]! + M[G[i]!]!) | 0;
    s = S[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  STATE[0] = (a0 + a) | 0;
  STATE[1] = (b0 + b) | 0;
  STATE[2] = (c0 + c) | 0;
  STATE[3] = (d0 + d) | 0;
}

function loadBlock(src: Uint8Array, offset: number): void {
  for (let w = 0; w < 16; w++) {
    const p = offset + w * 4;
    M[w] = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24);
  }
}

function run(data: Uint8Array): void {
  STATE[0] = 0x67452301;
  STATE[1] = 0xefcdab89 | 0;
  STATE[2] = 0x98badcfe | 0;
  STATE[3] = 0x10325476;
  const len = data.length;
  const fullBlocks = len >>> 6;
  for (let blk = 0; blk < fullBlocks; blk++) {
    loadBlock(data, blk << 6);
    compress();
  }
  // Tail: the remaining bytes, 0x80, zero padding, then the bit length (little-endian, 64 bits).
  const rest = len & 63;
  const tailLen = rest < 56 ? 64 : 128;
  const base = fullBlocks << 6;
  for (let i = 0; i < rest; i++) TAIL[i] = data[base + i]!;
  TAIL[rest] = 0x80;
  for (let i = rest + 1; i < tailLen; i++) TAIL[i] = 0;
  const lo = (len << 3) >>> 0;
  const hi = Math.floor(len / 0x20000000) >>> 0;
  const at = tailLen - 8;
  TAIL[at] = lo & 0xff;
  TAIL[at + 1] = (lo >>> 8) & 0xff;
  TAIL[at + 2] = (lo >>> 16) & 0xff;
  TAIL[at + 3] = lo >>> 24;
  TAIL[at + 4] = hi & 0xff;
  TAIL[at + 5] = (hi >>> 8) & 0xff;
  TAIL[at + 6] = (hi >>> 16) & 0xff;
  TAIL[at + 7] = hi >>> 24;
  loadBlock(TAIL, 0);
  compress();
  if (tailLen === 128) {
    loadBlock(TAIL, 64);
    compress();
  }
}

/** MD5 of `data`, bytes 0–3 as a little-endian uint32 (libmemcached's `hashkit_md5`). */
export function md5Word0(data: Uint8Array): number {
  run(data);
  return STATE[0]! >>> 0;
}

/** MD5 of `data` as four little-endian uint32 words (the digest's bytes 0–3, 4–7, 8–11, 12–15). */
export function md5Words(data: Uint8Array, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  run(data);
  out[0] = STATE[0]!;
  out[1] = STATE[1]!;
  out[2] = STATE[2]!;
  out[3] = STATE[3]!;
  return out;
}
