// Pins the text encoder and parser to the bytes a real memcached sends (twemproxy's are pinned in
// test/support/twemproxy.test.ts): how each failure leaves the stream, which the engine that
// matches replies by order must know.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TextStatus } from '../../src/protocol/TextReply.js';
import {
  encodeTextKey,
  TextConcat,
  TextStore,
  textArithmetic,
  textConcatHeader,
  textGet,
  textStoreHeader,
  textTouch,
  withDataBlock,
} from '../../src/protocol/TextRequestEncoder.js';
import { wireFlags, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';
import { type MemcachedProcess, startMemcached, textExchange } from '../support/index.js';

const key = (k: string) => encodeTextKey(k, 250);
const ttl = (s: number) => wireTtl(s, 'ttl');
const flags = (f: number) => wireFlags(f, 'flags');
const set = (k: string, v: Buffer | string) => {
  const data = typeof v === 'string' ? Buffer.from(v) : v;
  return withDataBlock(textStoreHeader(TextStore.Set, key(k), data.length, ttl(60), flags(0)), data);
};

describe('text protocol against memcached', () => {
  let server: MemcachedProcess;
  let target: { host: string; port: number };
  before(async () => {
    server = await startMemcached();
    target = { host: server.host, port: server.port };
  });
  after(() => server.stop());

  test('a value over the reader limit is skipped for its key only; the others and the next reply arrive', async () => {
    const replies = await textExchange(
      target,
      Buffer.concat([
        set('w:a', 'small'),
        set('w:big', Buffer.alloc(5000, 1)),
        set('w:c', 'also small'),
        Buffer.from(textGet([key('w:a'), key('w:big'), key('w:c')], false)),
        Buffer.from('version\r\n'),
      ]),
      5,
      1000,
    );
    const values = replies[3]!.values!;
    assert.deepEqual(
      values.map((v) => [v.key, v.value?.toString() ?? null, v.oversizeBytes]),
      [
        ['w:a', 'small', -1],
        ['w:big', null, 5000],
        ['w:c', 'also small', -1],
      ],
    );
    assert.equal(replies[4]!.status, TextStatus.Version);
  });

  test('a value too large for the server: SERVER_ERROR, the data is swallowed, the stream stays in step', async () => {
    const replies = await textExchange(
      target,
      Buffer.concat([set('w:huge', Buffer.alloc(2 * 1024 * 1024, 2)), Buffer.from('version\r\n')]),
      2,
    );
    assert.equal(replies[0]!.status, TextStatus.ServerError);
    assert.match(replies[0]!.text, /too large/);
    assert.equal(replies[1]!.status, TextStatus.Version);
  });

  test('incr on a non-number: one CLIENT_ERROR line, the stream stays in step', async () => {
    const replies = await textExchange(
      target,
      Buffer.concat([
        set('w:text', 'abc'),
        Buffer.from(textArithmetic(key('w:text'), false, wireUint64(1, 'delta'))),
        Buffer.from(textArithmetic(key('w:none'), false, wireUint64(1, 'delta'))),
        Buffer.from('version\r\n'),
      ]),
      4,
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      [TextStatus.Stored, TextStatus.ClientError, TextStatus.NotFound, TextStatus.Version],
    );
    assert.match(replies[1]!.text, /non-numeric/);
  });

  test('incr wraps at 2^64, decr stops at 0; append, prepend and touch', async () => {
    const replies = await textExchange(
      target,
      Buffer.concat([
        set('w:n', '18446744073709551615'),
        Buffer.from(textArithmetic(key('w:n'), false, wireUint64(2, 'delta'))),
        Buffer.from(textArithmetic(key('w:n'), true, wireUint64(5, 'delta'))),
        set('w:s', 'mid'),
        withDataBlock(textConcatHeader(TextConcat.Append, key('w:s'), 1), Buffer.from('>')),
        withDataBlock(textConcatHeader(TextConcat.Prepend, key('w:s'), 1), Buffer.from('<')),
        withDataBlock(textConcatHeader(TextConcat.Append, key('w:absent'), 1), Buffer.from('x')),
        Buffer.from(textTouch(key('w:s'), ttl(10))),
        Buffer.from(textGet([key('w:s')], true)),
      ]),
      9,
    );
    assert.equal(replies[1]!.number, 1n);
    assert.equal(replies[2]!.number, 0n);
    assert.deepEqual(
      replies.slice(3, 8).map((r) => r.status),
      [TextStatus.Stored, TextStatus.Stored, TextStatus.Stored, TextStatus.NotStored, TextStatus.Touched],
    );
    const [value] = replies[8]!.values!;
    assert.equal(value!.value!.toString(), '<mid>');
    assert.match(value!.cas, /^\d+$/);
  });
});
