// Where socket reads land (SocketReader), driven by a simulated socket over the real reply
// parser: whatever the read sizes, every value arrives intact, in order, under its own opaque.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MetaResponse } from '../../src/protocol/MetaResponse.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import type { TextReply } from '../../src/protocol/TextReply.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';
import {
  DIRECT_READ_BYTES,
  READ_BUFFER_BYTES,
  SocketReader,
  WINDOW_BYTES,
} from '../../src/transport/SocketReader.js';

/** Bytes with a period of 251 (a prime): a value starting at another offset differs from byte 0. */
const PATTERN = Buffer.from(Array.from({ length: 251 + 1_000_000 }, (_, i) => (i % 251) * 7 + 1));

/** A value whose bytes depend on its opaque (fewer than 251 per test): a mix-up cannot go unseen. */
function patterned(opaque: number, size: number): Buffer {
  return PATTERN.subarray(opaque % 251, (opaque % 251) + size);
}

/** Tiny deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Plays `wire` into the reader as a socket would: each read fills at most the buffer `next()`
 * returned and at most what "arrived" (`cap()`); returns how many reads landed in place.
 */
function play(
  reader: SocketReader,
  wire: Buffer,
  cap: () => number,
): { reads: number; direct: number; copied: number } {
  // Nothing arriving yet: the next read goes to the reused buffer.
  const reused = reader.next();
  let offset = 0;
  let reads = 0;
  let direct = 0;
  let copied = 0;
  while (offset < wire.length) {
    const target = reader.next();
    const n = Math.min(target.length, cap(), wire.length - offset);
    wire.copy(target, 0, offset, offset + n);
    // The reused buffer (or a window of it) is what the parser copies from; anything else is a
    // value's own buffer.
    if (target.buffer === reused.buffer && target.byteOffset === reused.byteOffset) copied += n;
    else direct++;
    reader.read(n);
    offset += n;
    reads++;
  }
  return { reads, direct, copied };
}

// Sizes at the edges: the read buffer, the in-place threshold, the CRLF straddling either.
const EDGE_SIZES = [
  0,
  1,
  DIRECT_READ_BYTES - 1,
  DIRECT_READ_BYTES,
  DIRECT_READ_BYTES + 1,
  DIRECT_READ_BYTES + 2,
  READ_BUFFER_BYTES - 30,
  READ_BUFFER_BYTES - 2,
  READ_BUFFER_BYTES,
  READ_BUFFER_BYTES + 1,
  100 * 1024,
  500 * 1024,
];

it('meta: values of every edge size, read in chunks of every kind, arrive intact under their own opaque', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const random = prng(seed);
    const sizes = [...EDGE_SIZES, ...EDGE_SIZES.map(() => Math.floor(random() * 700_000))].sort(
      () => random() - 0.5,
    );
    const parts: Buffer[] = [];
    sizes.forEach((size, opaque) => {
      parts.push(
        Buffer.from(`VA ${size} f${opaque} O${opaque}\r\n`),
        patterned(opaque, size),
        Buffer.from('\r\n'),
      );
      // A miss between values: a reply without a data block right after one.
      if (opaque % 3 === 0) parts.push(Buffer.from(`EN O${opaque + 10_000}\r\n`));
    });
    const got: MetaResponse[] = [];
    const errors: Error[] = [];
    const parser = new ResponseParser({ onResponse: (r) => got.push(r), onError: (e) => errors.push(e) });
    const reader = new SocketReader(parser);
    // Reads as large as the buffer, 1 byte, or anything between: a busy or a trickling socket.
    const caps = [
      () => Number.MAX_SAFE_INTEGER,
      () => 1 + Math.floor(random() * 5000),
      () => 1 + Math.floor(random() * 300_000),
    ];
    const { direct } = play(reader, Buffer.concat(parts), caps[seed % 3]!);
    assert.deepEqual(errors, [], `seed ${seed}`);
    const values = got.filter((r) => r.opaque < 10_000);
    assert.equal(values.length, sizes.length, `seed ${seed}`);
    values.forEach((r, i) => {
      assert.equal(r.opaque, i, `seed ${seed}: order`);
      assert.equal(r.clientFlags, i);
      assert.ok(r.value!.equals(patterned(i, sizes[i]!)), `seed ${seed}: value ${i} (${sizes[i]} bytes)`);
    });
    assert.equal(got.length - values.length, Math.ceil(sizes.length / 3), 'every miss delivered');
    assert.equal(parser.hasPartial, false);
    assert.equal(reader.midReply, false, 'nothing is arriving after the last reply');
    if (seed % 3 !== 1) assert.ok(direct > 0, `seed ${seed}: large values were read in place`);
  }
});

it('text: VALUE blocks of edge sizes arrive intact through the same reader', () => {
  const random = prng(99);
  const sizes = [...EDGE_SIZES].sort(() => random() - 0.5);
  const parts: Buffer[] = [];
  sizes.forEach((size, i) => {
    parts.push(Buffer.from(`VALUE k${i} ${i} ${size}\r\n`), patterned(i, size), Buffer.from('\r\nEND\r\n'));
  });
  const got: TextReply[] = [];
  const errors: Error[] = [];
  const parser = new TextResponseParser({ onReply: (r) => got.push(r), onError: (e) => errors.push(e) });
  const reader = new SocketReader(parser);
  play(reader, Buffer.concat(parts), () => 1 + Math.floor(random() * 200_000));
  assert.deepEqual(errors, []);
  const values = got.flatMap((r) => r.values ?? []);
  assert.equal(values.length, sizes.length);
  values.forEach((v, i) => {
    assert.equal(v.key, `k${i}`);
    assert.ok(v.value!.equals(patterned(i, sizes[i]!)), `value ${i} (${sizes[i]} bytes)`);
  });
});

it('huge values back to back: the header and a window read into the buffer, the rest in place', () => {
  const size = 500 * 1024;
  const count = 20;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++)
    parts.push(Buffer.from(`VA ${size} O${i}\r\n`), patterned(i, size), Buffer.from('\r\n'));
  const got: MetaResponse[] = [];
  const parser = new ResponseParser({ onResponse: (r) => got.push(r), onError: (e) => assert.fail(e) });
  const reader = new SocketReader(parser);
  // A busy socket: every read fills what it is given.
  const { reads, copied } = play(reader, Buffer.concat(parts), () => Number.MAX_SAFE_INTEGER);
  assert.equal(got.length, count);
  for (const [i, r] of got.entries()) assert.ok(r.value!.equals(patterned(i, size)), `value ${i}`);
  // The first value comes through a whole-buffer read; every later one through a window.
  assert.ok(reads <= 2 * count + 1, `${reads} reads for ${count} values`);
  assert.ok(copied <= READ_BUFFER_BYTES + count * WINDOW_BYTES, `${copied} bytes copied in user space`);
  // Before the window, every value's first 256 KB were copied.
  assert.ok(copied < (count * READ_BUFFER_BYTES) / 4);
});

it('midReply is true exactly while a kept value is still arriving', () => {
  const parser = new ResponseParser({ onResponse: () => {}, onError: (e) => assert.fail(e) });
  const reader = new SocketReader(parser);
  const wire = Buffer.concat([
    Buffer.from('VA 200000 O1\r\n'),
    patterned(1, 200_000),
    Buffer.from('\r\nHD O2\r\n'),
  ]);
  let offset = 0;
  const step = (n: number): void => {
    const target = reader.next();
    wire.copy(target, 0, offset, offset + n);
    reader.read(n);
    offset += n;
  };
  assert.equal(reader.midReply, false);
  step(1000);
  assert.equal(reader.midReply, true, 'header and part of the value');
  step(200_000 + 14 - 1000 + 1);
  assert.equal(reader.midReply, true, 'one byte (the LF) still missing');
  step(1);
  assert.equal(reader.midReply, false, 'value complete');
  step(wire.length - offset);
  assert.equal(reader.midReply, false);
});

it('a value larger than the limit is skipped, not kept: no read lands in it and midReply stays false', () => {
  const got: MetaResponse[] = [];
  const parser = new ResponseParser(
    { onResponse: (r) => got.push(r), onError: (e) => assert.fail(e) },
    100_000,
  );
  const reader = new SocketReader(parser);
  const wire = Buffer.concat([
    Buffer.from('VA 300000 O1\r\n'),
    patterned(1, 300_000),
    Buffer.from('\r\nVA 5 O2\r\nhello\r\n'),
  ]);
  let offset = 0;
  while (offset < wire.length) {
    const target = reader.next();
    assert.equal(target.length, READ_BUFFER_BYTES, 'always the reused buffer');
    const n = Math.min(70_000, wire.length - offset);
    wire.copy(target, 0, offset, offset + n);
    reader.read(n);
    offset += n;
    assert.equal(reader.midReply, false);
  }
  assert.equal(got[0]!.oversizeBytes, 300_000);
  assert.equal(got[1]!.value!.toString(), 'hello');
});
