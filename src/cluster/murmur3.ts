/**
 * MurmurHash3 x86 32-bit, as pymemcache's `pymemcache/client/murmur3.py` computes it: over a
 * sequence of byte values (`ord(ch) & 0xff` per character there), little-endian blocks, the
 * given seed. Pure and allocation-free.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** murmur3_32 of `data[0 .. length)`, seed `seed` (default 0), as an unsigned 32-bit integer. */
export function murmur3_32(data: ArrayLike<number>, seed = 0, length = data.length): number {
  let h1 = seed | 0;
  const roundedEnd = length & ~3;
  for (let i = 0; i < roundedEnd; i += 4) {
    let k1 =
      (data[i]! & 0xff) |
      ((data[i + 1]! & 0xff) << 8) |
      ((data[i + 2]! & 0xff) << 16) |
      ((data[i + 3]! & 0xff) << 24);
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  const tail = length & 3;
  if (tail === 3) k1 = (data[roundedEnd + 2]! & 0xff) << 16;
  if (tail >= 2) k1 |= (data[roundedEnd + 1]! & 0xff) << 8;
  if (tail >= 1) {
    k1 |= data[roundedEnd]! & 0xff;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}
