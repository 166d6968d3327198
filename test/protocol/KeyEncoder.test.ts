import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidKeyError } from '../../src/component/errors.js';
import { encodeKey, keyBytes, MAX_WIRE_KEY_BYTES } from '../../src/protocol/KeyEncoder.js';

const MAX = 250;

/** Asserts `key` is sent base64 with the `b` flag and that the token decodes to its UTF-8 bytes. */
function assertBase64(key: string): string {
  const encoded = encodeKey(key, MAX);
  const utf8 = Buffer.from(key, 'utf8');
  assert.match(encoded.token, /^[A-Za-z0-9+/]+={0,2} b$/);
  const base64 = encoded.token.slice(0, -2);
  assert.ok(!/[ \r\n]/.test(base64), 'no space, CR or LF inside the base64 token');
  assert.deepEqual(Buffer.from(base64, 'base64'), utf8);
  assert.equal(base64, utf8.toString('base64'));
  assert.deepEqual(encoded.bytes, utf8);
  assert.equal(encoded.key, key);
  return encoded.token;
}

function assertInvalid(fn: () => unknown, key?: string): InvalidKeyError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidKeyError, `expected InvalidKeyError, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_KEY');
  if (key !== undefined) assert.equal(caught.key, key);
  return caught;
}

describe('encodeKey: printable ASCII goes as is', () => {
  test('plain keys are their own token', () => {
    for (const key of ['foo', 'user:42', 'a', '!~', 'k{x}[y]|"\'\\`', 'A-Z_0-9.%$#@^&*()=+,;<>?/']) {
      assert.deepEqual(encodeKey(key, MAX), { token: key, bytes: null, key });
    }
  });

  test('every printable ASCII byte 0x21..0x7e is plain', () => {
    const key = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
    assert.equal(encodeKey(key, MAX).token, key);
  });

  test('keys built at run time (ropes) are judged like literal ones, wherever the odd character is', () => {
    // A key joined from parts is a rope in V8 until something flattens it: encodeKey reads its
    // first character before the regex. A space, a control character or a non-ASCII one at the
    // start, in the middle or at the end still sends it base64.
    for (let id = 0; id < 50; id++) {
      const prefix = ['user:', 'session:', 'k'][id % 3]!;
      const plain = `${prefix}${'x'.repeat(id % 20)}:${id}`;
      assert.deepEqual(encodeKey(plain, MAX), { token: plain, bytes: null, key: plain });
      for (const odd of [' ', '\r\n', '\u0000', '\u007f', 'é', '\u{1F600}']) {
        assertBase64(`${odd}${prefix}${id}:${'y'.repeat(12)}`);
        assertBase64(`${prefix}${'y'.repeat(12)}${odd}${id}`);
        assertBase64(`${prefix}${'y'.repeat(12)}:${id}${odd}`);
      }
    }
  });

  test('keyBytes of a plain key are its ASCII bytes (computed once)', () => {
    const encoded = encodeKey('user:42', MAX);
    const bytes = keyBytes(encoded);
    assert.deepEqual(bytes, Buffer.from('user:42'));
    assert.equal(keyBytes(encoded), bytes);
  });

  test('a 250-byte ASCII key is accepted as is; 251 bytes is an InvalidKeyError naming the key', () => {
    const key250 = 'k'.repeat(250);
    assert.equal(encodeKey(key250, MAX).token, key250);
    assert.equal(MAX_WIRE_KEY_BYTES, 250);
    const error = assertInvalid(() => encodeKey(`${key250}k`, MAX));
    assert.match(error.message, /251 bytes/);
    assert.equal(error.key, `${'k'.repeat(61)}...`, 'a long key is cut in the error');
  });

  test('maxKeyBytes 10 accepts 10 bytes and rejects an 11-byte key, naming it', () => {
    assert.equal(encodeKey('0123456789', 10).token, '0123456789');
    const error = assertInvalid(() => encodeKey('0123456789a', 10), '0123456789a');
    assert.match(error.message, /11 bytes long; the limit is 10/);
  });

  test('maxKeyBytes counts UTF-8 bytes, not characters', () => {
    assert.equal(encodeKey('ééééé', 10).token, `${Buffer.from('ééééé').toString('base64')} b`);
    assertInvalid(() => encodeKey('éééééé', 10), 'éééééé');
  });
});

describe('encodeKey: anything else goes base64 with the b flag', () => {
  test('a key with a space', () => {
    assert.equal(assertBase64('a b'), 'YSBi b');
  });

  test('a key trying to smuggle a command cannot put CR or LF on the wire', () => {
    const token = assertBase64('x\r\nflush_all');
    assert.equal(token, 'eA0KZmx1c2hfYWxs b');
  });

  test('a key with NUL, tab, DEL or a control character', () => {
    for (const key of ['a\0b', '\0', 'a\tb', 'del\x7f', '\x1b[0m']) assertBase64(key);
  });

  test('unicode keys: Cyrillic and emoji', () => {
    assert.equal(assertBase64('ключ'), '0LrQu9GO0Yc= b');
    assert.equal(assertBase64('😀'), '8J+YgA== b');
    assertBase64('ключ 🔑 key');
  });

  test('keyBytes of a base64 key are the UTF-8 bytes (what hashing uses)', () => {
    assert.deepEqual(keyBytes(encodeKey('ключ', MAX)), Buffer.from('ключ', 'utf8'));
  });

  test('a binary key of 186 raw bytes fits (248 base64 chars); 187 is an InvalidKeyError', () => {
    const key186 = '\0'.repeat(186);
    const token = assertBase64(key186);
    assert.equal(token.length, 248 + 2);
    assertInvalid(() => encodeKey('\0'.repeat(187), MAX), `${'\0'.repeat(61)}...`);
    // The same limit measured in UTF-8 bytes: 93 two-byte characters fit, 94 do not.
    assertBase64('é'.repeat(93));
    const error = assertInvalid(() => encodeKey('é'.repeat(94), MAX));
    assert.match(error.message, /252 bytes; memcached accepts 250/);
  });

  test('unpaired surrogates are rejected: UTF-8 cannot tell them apart', () => {
    // Buffer.from would encode each as EF BF BD, so these keys would share one entry.
    assertInvalid(() => encodeKey('\uD800', MAX), '\uD800');
    assertInvalid(() => encodeKey('a\uDBFF', MAX), 'a\uDBFF');
    assertInvalid(() => encodeKey('\uDC00\uD800', MAX));
    assertBase64('\uD83D\uDE00'); // a pair is fine: it is 😀
  });
});

describe('encodeKey: invalid keys', () => {
  test('an empty key', () => {
    const error = assertInvalid(() => encodeKey('', MAX));
    assert.match(error.message, /empty/);
  });

  test('non-string keys', () => {
    for (const [key, name] of [
      [42, 'number'],
      [null, 'null'],
      [undefined, 'undefined'],
      [{ toString: () => 'foo' }, 'object'],
      [['foo'], 'object'],
      [Buffer.from('foo'), 'object'],
      [Symbol('k'), 'symbol'],
      [10n, 'bigint'],
    ] as const) {
      const error = assertInvalid(() => encodeKey(key, MAX));
      assert.equal(error.message, `Key must be a string, got ${name}`);
    }
  });
});

describe('encodeKey properties', () => {
  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ maxLength: 300 }),
    fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 120 })
      .map((codes) => String.fromCharCode(...codes)),
  );

  test('any string either throws InvalidKeyError or yields a single safe token, optionally with b', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 1, max: 400 }), (key, maxKeyBytes) => {
        let encoded: ReturnType<typeof encodeKey>;
        try {
          encoded = encodeKey(key, maxKeyBytes);
        } catch (error) {
          assert.ok(error instanceof InvalidKeyError);
          return;
        }
        assert.match(encoded.token, /^[\x21-\x7e]+( b)?$/);
        const base64 = encoded.token.endsWith(' b');
        const wire = base64 ? encoded.token.slice(0, -2) : encoded.token;
        assert.ok(wire.length <= MAX_WIRE_KEY_BYTES);
        const bytes = base64 ? Buffer.from(wire, 'base64') : Buffer.from(wire, 'latin1');
        // The wire form decodes back to exactly this key: distinct keys never share an entry.
        assert.equal(bytes.toString('utf8'), key);
        assert.ok(bytes.length <= maxKeyBytes);
      }),
      { numRuns: 5000 },
    );
  });
});
