import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MetaResponse } from '../../src/protocol/MetaResponse.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import { type TextReply, TextStatus } from '../../src/protocol/TextReply.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';

it('a large value can be read in place: directTarget() then receivedDirect(), no copy', () => {
  const got: MetaResponse[] = [];
  const errors: Error[] = [];
  const parser = new ResponseParser({ onResponse: (r) => got.push(r), onError: (e) => errors.push(e) });
  const value = Buffer.alloc(200_000);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
  const wire = Buffer.concat([Buffer.from(`VA ${value.length} O5\r\n`), value, Buffer.from('\r\nHD O6\r\n')]);
  const header = wire.indexOf('\n') + 1;
  assert.equal(parser.directTarget(1), null, 'nothing pending yet');
  parser.feed(wire.subarray(0, header + 1000));
  let offset = header + 1000;
  // The transport asks for a target before each read while enough of the value is missing.
  for (;;) {
    const target = parser.directTarget(64 * 1024);
    if (target === null) break;
    const n = Math.min(target.length, 70_000);
    wire.copy(target, 0, offset, offset + n);
    parser.receivedDirect(n);
    offset += n;
  }
  assert.equal(got.length, 0, 'the value is not complete yet');
  parser.feed(wire.subarray(offset));
  assert.deepEqual(errors, []);
  assert.equal(got.length, 2);
  assert.equal(got[0]!.opaque, 5);
  assert.ok(got[0]!.value!.equals(value), 'value bytes intact');
  assert.equal(got[1]!.opaque, 6);
  assert.equal(parser.hasPartial, false);
});

it('a value read in place that lacks its CRLF is a protocol error', () => {
  const errors: Error[] = [];
  const parser = new ResponseParser({ onResponse: () => {}, onError: (e) => errors.push(e) });
  parser.feed(Buffer.from('VA 100000 O1\r\n'));
  const target = parser.directTarget(1)!;
  assert.equal(target.length, 100_002);
  target.fill(65);
  parser.receivedDirect(target.length);
  assert.equal(errors.length, 1);
  assert.equal(parser.isStopped, true);
});

it('while an oversize value is skipped directTarget() is null and receivedDirect() is ignored', () => {
  const got: MetaResponse[] = [];
  const errors: Error[] = [];
  const parser = new ResponseParser(
    { onResponse: (r) => got.push(r), onError: (e) => errors.push(e) },
    100_000,
  );
  const big = Buffer.alloc(300_000, 0x62);
  const small = Buffer.alloc(150_000 - 50_001, 0x63);
  const wire = Buffer.concat([
    Buffer.from(`VA ${big.length} O1 f9\r\n`),
    big,
    Buffer.from(`\r\nVA ${small.length} O2\r\n`),
    small,
    Buffer.from('\r\nHD O3\r\n'),
  ]);
  const header = wire.indexOf('\n') + 1;
  parser.feed(wire.subarray(0, header + 10));
  assert.equal(parser.hasPartial, true);
  assert.equal(parser.directTarget(1), null, 'no buffer to read a skipped value into');
  parser.receivedDirect(1000); // a stray call must not count as skipped bytes
  let offset = header + 10;
  // Feed the skipped block in 64 KB chunks; a next value that fits can again be read in place.
  while (got.length === 0) {
    assert.equal(parser.directTarget(1), null);
    parser.feed(wire.subarray(offset, offset + 64 * 1024));
    offset += 64 * 1024;
  }
  assert.deepEqual(errors, []);
  assert.equal(got[0]!.opaque, 1);
  assert.equal(got[0]!.clientFlags, 9);
  assert.equal(got[0]!.value, null);
  assert.equal(got[0]!.oversizeBytes, big.length);
  for (;;) {
    const target = parser.directTarget(1);
    if (target === null) break;
    const n = Math.min(target.length, 30_000, wire.length - offset);
    wire.copy(target, 0, offset, offset + n);
    parser.receivedDirect(n);
    offset += n;
  }
  parser.feed(wire.subarray(offset));
  assert.deepEqual(errors, []);
  assert.deepEqual(
    got.map((r) => [r.opaque, r.oversizeBytes]),
    [
      [1, big.length],
      [2, -1],
      [3, -1],
    ],
  );
  assert.ok(got[1]!.value!.equals(small));
  assert.equal(parser.hasPartial, false);
});

it('the text parser reads a large VALUE in place too (one shared data-block reader), then its END', () => {
  const got: TextReply[] = [];
  const errors: Error[] = [];
  const parser = new TextResponseParser({ onReply: (r) => got.push(r), onError: (e) => errors.push(e) });
  const value = Buffer.alloc(150_000);
  for (let i = 0; i < value.length; i++) value[i] = (i * 13) & 0xff;
  const wire = Buffer.concat([
    Buffer.from(`VALUE big 3 ${value.length} 42\r\n`),
    value,
    Buffer.from('\r\nEND\r\nSTORED\r\n'),
  ]);
  const header = wire.indexOf('\n') + 1;
  parser.feed(wire.subarray(0, header + 10));
  let offset = header + 10;
  let reads = 0;
  for (;;) {
    const target = parser.directTarget(64 * 1024);
    if (target === null) break;
    const n = Math.min(target.length, 60_000);
    wire.copy(target, 0, offset, offset + n);
    parser.receivedDirect(n);
    offset += n;
    reads++;
  }
  assert.ok(reads >= 2, `read in place ${reads} times`);
  parser.feed(wire.subarray(offset));
  assert.deepEqual(errors, []);
  assert.equal(got.length, 2);
  const read = got[0]!.values![0]!;
  assert.deepEqual([read.key, read.clientFlags, read.cas], ['big', 3, '42']);
  assert.ok(read.value!.equals(value), 'value bytes intact');
  assert.equal(got[1]!.status, TextStatus.Stored);
  assert.equal(parser.hasPartial, false);
});
