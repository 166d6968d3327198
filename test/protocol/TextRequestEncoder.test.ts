import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidKeyError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import {
  encodeTextKey,
  TextConcat,
  TextStore,
  textArithmetic,
  textCasHeader,
  textConcatHeader,
  textDelete,
  textGet,
  textKey,
  textStoreHeader,
  textTouch,
  textVersion,
  withDataBlock,
} from '../../src/protocol/TextRequestEncoder.js';
import { wireCas, wireFlags, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';

const key = (k: string) => encodeTextKey(k, 250);
const ttl = (seconds: number, nowMs?: number) => wireTtl(seconds, 'ttl', undefined, nowMs);
const flags = (value: number) => wireFlags(value, 'flags');
const cas = (value: string | bigint) => wireCas(value, 'cas');
const u64 = (value: number | bigint) => wireUint64(value, 'delta');

describe('TextRequestEncoder', () => {
  test('get and gets, one key and several', () => {
    assert.equal(textGet([key('foo')], false), 'get foo\r\n');
    assert.equal(textGet([key('a'), key('b:1'), key('c')], false), 'get a b:1 c\r\n');
    assert.equal(textGet([key('a'), key('b')], true), 'gets a b\r\n');
  });

  test('a get with no key is a programming error, not an empty command', () => {
    assert.throws(() => textGet([], false), RangeError);
  });

  test('set, add, replace: flags, TTL, then the data length', () => {
    assert.equal(textStoreHeader(TextStore.Set, key('k'), 3, ttl(60), flags(0)), 'set k 0 60 3\r\n');
    assert.equal(textStoreHeader(TextStore.Add, key('k'), 0, ttl(0), flags(1)), 'add k 1 0 0\r\n');
    assert.equal(
      textStoreHeader(TextStore.Replace, key('k'), 10, ttl(5), flags(4294967295)),
      'replace k 4294967295 5 10\r\n',
    );
  });

  test('a TTL beyond 30 days goes as an absolute Unix time, as in the meta encoder', () => {
    const now = 1_700_000_000_000;
    assert.equal(
      textStoreHeader(TextStore.Set, key('k'), 1, ttl(2_592_001, now), flags(0)),
      'set k 0 1702592001 1\r\n',
    );
  });

  test('append and prepend send flags and TTL as 0 (ignored by memcached)', () => {
    assert.equal(textConcatHeader(TextConcat.Append, key('k'), 2), 'append k 0 0 2\r\n');
    assert.equal(textConcatHeader(TextConcat.Prepend, key('k'), 7), 'prepend k 0 0 7\r\n');
  });

  test('cas carries the unique last, up to 2^64 − 1', () => {
    assert.equal(textCasHeader(key('k'), 3, ttl(0), flags(2), cas('42')), 'cas k 2 0 3 42\r\n');
    assert.equal(
      textCasHeader(key('k'), 1, ttl(9), flags(0), cas(2n ** 64n - 1n)),
      'cas k 0 9 1 18446744073709551615\r\n',
    );
  });

  test('withDataBlock: header, the bytes as given, CRLF', () => {
    const data = Buffer.from([0, 13, 10, 255]);
    const request = withDataBlock(textStoreHeader(TextStore.Set, key('k'), 4, ttl(0), flags(0)), data);
    assert.deepEqual(request, Buffer.concat([Buffer.from('set k 0 0 4\r\n'), data, Buffer.from('\r\n')]));
    assert.deepEqual(withDataBlock('x\r\n', new Uint8Array(0)), Buffer.from('x\r\n\r\n'));
  });

  test('delete, incr, decr, touch, version', () => {
    assert.equal(textDelete(key('k')), 'delete k\r\n');
    assert.equal(textArithmetic(key('n'), false, u64(1)), 'incr n 1\r\n');
    assert.equal(textArithmetic(key('n'), true, u64(2n ** 64n - 1n)), 'decr n 18446744073709551615\r\n');
    assert.equal(textTouch(key('k'), ttl(30)), 'touch k 30\r\n');
    assert.equal(textVersion(), 'version\r\n');
  });

  test('no request ever asks for noreply: every one gets a reply to match by order', () => {
    const all = [
      textGet([key('a')], true),
      textStoreHeader(TextStore.Set, key('a'), 1, ttl(0), flags(0)),
      textConcatHeader(TextConcat.Append, key('a'), 1),
      textCasHeader(key('a'), 1, ttl(0), flags(0), cas('1')),
      textDelete(key('a')),
      textArithmetic(key('a'), false, u64(1)),
      textTouch(key('a'), ttl(1)),
    ];
    for (const line of all) assert.doesNotMatch(line, /noreply/);
  });
});

describe('encodeTextKey', () => {
  test('printable ASCII keys are used as they are', () => {
    const k = key('user:42/profile~x');
    assert.equal(k.token, 'user:42/profile~x');
    assert.equal(k.key, 'user:42/profile~x');
  });

  for (const [name, bad] of [
    ['a space', 'a b'],
    ['CRLF (a second command)', 'x\r\nflush_all'],
    ['a control character', 'a\u0001'],
    ['non-ASCII', 'clé'],
  ] as const) {
    test(`a key with ${name} is refused, naming the key and the text protocol`, () => {
      assert.throws(
        () => encodeTextKey(bad, 250),
        (error: unknown) => {
          assert.ok(error instanceof InvalidKeyError);
          assert.equal(error.code, 'INVALID_KEY');
          assert.match(error.message, /text protocol/);
          assert.ok(error.message.includes(JSON.stringify(bad)));
          return true;
        },
      );
    });
  }

  test('a key encoded for meta is checked again by textKey', () => {
    assert.equal(textKey(encodeKey('ok', 250)).token, 'ok');
    assert.throws(() => textKey(encodeKey('not ok', 250)), InvalidKeyError);
  });

  test('the key checks of encodeKey still apply: empty, too long, not a string', () => {
    assert.throws(() => encodeTextKey('', 250), InvalidKeyError);
    assert.throws(() => encodeTextKey('x'.repeat(251), 250), InvalidKeyError);
    assert.throws(() => encodeTextKey('x'.repeat(11), 10), InvalidKeyError);
    assert.throws(() => encodeTextKey(42, 250), InvalidKeyError);
  });

  test('a long key is cut in the message', () => {
    const long = `${'x'.repeat(100)} y`;
    assert.throws(
      () => encodeTextKey(long, 250),
      (error: unknown) =>
        error instanceof Error && !error.message.includes(long) && /\.\.\./.test(error.message),
    );
  });
});

describe('TextRequestEncoder properties', () => {
  const anyKey = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
  const textKeyArb = fc.stringMatching(/^[\x21-\x7e]{1,250}$/).map((k) => key(k));

  test('any key is either refused or one space-free token that cannot end the line', () => {
    fc.assert(
      fc.property(anyKey, (k) => {
        let encoded: ReturnType<typeof key>;
        try {
          encoded = key(k);
        } catch (error) {
          assert.ok(error instanceof InvalidKeyError);
          return;
        }
        assert.match(encoded.token, /^[\x21-\x7e]{1,250}$/);
        assert.equal(encoded.token, k);
      }),
    );
  });

  test('every request is exactly one command line, plus the data block for storage commands', () => {
    const request = fc.oneof(
      fc
        .tuple(fc.array(textKeyArb, { minLength: 1, maxLength: 20 }), fc.boolean())
        .map(([keys, withCas]) => ({ line: textGet(keys, withCas), data: null })),
      fc
        .tuple(
          fc.constantFrom(...Object.values(TextStore)),
          textKeyArb,
          fc.uint8Array({ maxLength: 64 }),
          fc.integer({ min: 0, max: 2_592_000 }),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        )
        .map(([command, k, data, t, f]) => ({
          line: textStoreHeader(command, k, data.length, ttl(t), flags(f)),
          data,
        })),
      fc
        .tuple(fc.constantFrom(...Object.values(TextConcat)), textKeyArb, fc.uint8Array({ maxLength: 64 }))
        .map(([command, k, data]) => ({ line: textConcatHeader(command, k, data.length), data })),
      fc
        .tuple(textKeyArb, fc.uint8Array({ maxLength: 64 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
        .map(([k, data, c]) => ({ line: textCasHeader(k, data.length, ttl(0), flags(0), cas(c)), data })),
      textKeyArb.map((k) => ({ line: textDelete(k), data: null })),
      fc
        .tuple(textKeyArb, fc.boolean(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
        .map(([k, d, delta]) => ({ line: textArithmetic(k, d, u64(delta)), data: null })),
      fc
        .tuple(textKeyArb, fc.integer({ min: 0, max: 2_592_000 }))
        .map(([k, t]) => ({ line: textTouch(k, ttl(t)), data: null })),
    );
    fc.assert(
      fc.property(request, ({ line, data }) => {
        // One line: a single CRLF, at the end, no other CR or LF, single spaces between tokens.
        assert.ok(line.endsWith('\r\n'));
        const body = line.slice(0, -2);
        assert.doesNotMatch(body, /[\r\n]/);
        assert.match(body, /^[a-z]+( [\x21-\x7e]+)+$/);
        if (data === null) return;
        // A storage header announces exactly the data block's length, as its byte count.
        const tokens = body.split(' ');
        const bytesToken = tokens[0] === 'cas' ? tokens[4] : tokens[tokens.length - 1];
        assert.equal(Number(bytesToken), data.length);
        const wire = withDataBlock(line, data);
        assert.equal(wire.length, Buffer.byteLength(line) + data.length + 2);
        assert.equal(wire.indexOf('\r\n'), line.length - 2);
        assert.deepEqual(wire.subarray(line.length, line.length + data.length), Buffer.from(data));
        assert.equal(wire.subarray(-2).toString(), '\r\n');
      }),
    );
  });
});
