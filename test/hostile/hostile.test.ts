// Hostile input against a real memcached: > 1,000 generated keys (spaces, CR/LF, NUL, control and
// unicode characters, lone surrogates, 250/251-byte and 186/187-byte edges, empty, non-strings)
// with generated values, plus edge values (max_value ± 1, oversize, BigInt, cycles, functions,
// symbols, Buffers). Each is either stored and read back equal under JSON semantics, or rejected
// with a typed MemcachedCacheError whose code is predicted up front — nothing reaches the server
// unvalidated. A canary key on the same server must come through untouched and the server must
// never see a flush: no key or value can smuggle a command onto the wire.
// Malformed configurations must fail with a ConfigError naming the option.
//
// The response parser itself is fuzzed in test/protocol/ResponseParser.property.test.ts
// (fast-check, >= 100k cases) and is not repeated here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  ConfigParams,
  InvalidKeyError,
  InvalidValueError,
  MemcachedCache,
  MemcachedCacheError,
  ValueTooLargeError,
} from '../../src/index.js';
import { type MemcachedProcess, rawCommand, startMemcached, stopAllMemcached } from '../support/index.js';

const MAX_VALUE = 1_048_576; // the default max_value; the server runs with -I 2m so it fits
const CANARY_KEY = 'hostile-canary';
const CANARY_VALUE = 'canary-value-0123456789';
const KEY_COUNT = 1200;

// ---- a seeded generator (xorshift32): the same cases on every run ----

let seed = 0x9e3779b9;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x1_0000_0000;
}
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;

const INJECTIONS = [
  '\r\nflush_all\r\n',
  ' \r\nflush_all noreply\r\n',
  `\r\nset ${CANARY_KEY} 0 0 5\r\npwned\r\n`,
  `\r\nmd ${CANARY_KEY} q\r\nmn\r\n`,
  `\r\nms ${CANARY_KEY} 5 I\r\npwned\r\n`,
  ' v b\r\nshutdown\r\n',
  '\0flush_all\0',
  '\nflush_all\n',
];
const UNICODE = [
  'é',
  'ß',
  '日本',
  '😀',
  '👩‍👩‍👧',
  'e\u0301',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\uffff',
  '\u0000',
  'Ω',
  'ك',
  '\u{10ffff}',
];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat([
  '\x7f',
  '\x80',
  '\x9f',
  '\xa0',
  '\xff',
]);

function printable(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + int(0x7e - 0x21 + 1));
  return s;
}

/** One generated key: mostly hostile strings of many lengths. */
function generateKey(i: number): string {
  const kind = i % 10;
  switch (kind) {
    case 0:
      return `k${i}-${printable(int(240))}`;
    case 1: // spaces, CR/LF, NUL, other control characters
      return `k${i}${Array.from({ length: 1 + int(12) }, () => (random() < 0.5 ? pick(CONTROL) : printable(1 + int(5)))).join('')}`;
    case 2:
      return `k${i}${Array.from({ length: 1 + int(20) }, () => pick(UNICODE)).join('')}`;
    case 3: // a lone surrogate somewhere
      return `k${i}${printable(int(10))}${pick(LONE)}${printable(int(10))}`;
    case 4:
      return `k${i}${pick(INJECTIONS)}`;
    case 5: // around the 250-byte plain limit
      return `k${i}-${printable(240 + int(20))}`.slice(0, 245 + int(10));
    case 6: // around the 186/187-byte base64 limit
      return `k${i} ${printable(180 + int(12))}`.slice(0, 183 + int(8));
    case 7: // multibyte around the limits
      return `k${i}${'é'.repeat(80 + int(60))}`;
    case 8:
      return `k${i}${' '.repeat(int(5))}${printable(int(30))}${' '.repeat(int(5))}`;
    default:
      return `k${i}${String.fromCharCode(...Array.from({ length: 1 + int(40) }, () => int(0xd7ff)))}`;
  }
}

/** Edge keys that must be present whatever the generator does. */
const FIXED_KEYS: unknown[] = [
  '',
  ' ',
  '\r\n',
  '\0',
  'a'.repeat(249),
  'a'.repeat(250),
  'a'.repeat(251),
  `${' '.repeat(1)}${'a'.repeat(185)}`, // 186 bytes, needs base64: 248 chars, accepted
  `${' '.repeat(1)}${'a'.repeat(186)}`, // 187 bytes: 252 base64 chars, refused
  '\x01'.repeat(186),
  '\x01'.repeat(187),
  'é'.repeat(93), // 186 bytes
  'é'.repeat(94), // 188 bytes
  '😀'.repeat(46), // 184 bytes
  '😀'.repeat(47), // 188 bytes
  '\ud800',
  'x\udc00y',
  '😀'.slice(0, 1),
  CANARY_KEY.replace('-', ' '),
  `${CANARY_KEY} `,
  `${CANARY_KEY}\r\n`,
  ...INJECTIONS,
  ...INJECTIONS.map((s) => `${CANARY_KEY}${s}`),
  0,
  42,
  -1.5,
  Number.NaN,
  null,
  undefined,
  true,
  {},
  { toString: () => 'key' },
  ['a'],
  Symbol('k'),
  10n,
  Buffer.from('key'),
  () => 'key',
];

type Expected = { ok: true } | { ok: false; code: string };

/** What the key rules (DESIGN §2, §8) predict, computed independently of the implementation. */
function expectKey(key: unknown): Expected {
  if (typeof key !== 'string' || key.length === 0) return { ok: false, code: 'INVALID_KEY' };
  if (/^[\x21-\x7e]*$/.test(key))
    return key.length <= 250 ? { ok: true } : { ok: false, code: 'INVALID_KEY' };
  if (/\p{Cs}/u.test(key)) return { ok: false, code: 'INVALID_KEY' };
  const bytes = Buffer.byteLength(key, 'utf8');
  return bytes <= 250 && Math.ceil(bytes / 3) * 4 <= 250 ? { ok: true } : { ok: false, code: 'INVALID_KEY' };
}

/** A generated JSON-ish value with hostile strings inside, or bytes. */
function generateValue(i: number): unknown {
  const str = (): string =>
    Array.from({ length: int(8) }, () =>
      pick([...INJECTIONS, ...UNICODE, ...LONE, ...CONTROL, printable(1 + int(20)), '"', '\\', '\r\n']),
    ).join('');
  const kind = i % 8;
  switch (kind) {
    case 0:
      return str();
    case 1:
      return {
        s: str(),
        n: random() * 1e6 - 5e5,
        a: [str(), null, true, int(100)],
        nested: { deeper: { s: str() } },
      };
    case 2:
      return Buffer.from(Array.from({ length: int(300) }, () => int(256)));
    case 3:
      return pick([0, -0, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, 3.14]);
    case 4:
      return pick([null, true, false, '', ' ', '\r\n', 'null', '123', '{"not":"json"', undefined]);
    case 5:
      return [str(), str(), { [str()]: str() }];
    case 6:
      return new Date(int(2_000_000_000_000));
    default:
      return `${str()}\r\nEND\r\n${str()}`;
  }
}

/** What reading a stored value back must give: JSON semantics, bytes as a Buffer. */
function jsonRoundTrip(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

function assertTyped(error: unknown, code: string, what: string): asserts error is MemcachedCacheError {
  assert.ok(error instanceof MemcachedCacheError, `${what}: not a MemcachedCacheError: ${String(error)}`);
  assert.notEqual(error.constructor, MemcachedCacheError, `${what}: must be a subclass`);
  assert.equal(error.code, code, `${what}: ${error.name} ${error.message}`);
}

function describeKey(key: unknown): string {
  if (typeof key === 'string')
    return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…(${key.length})` : key);
  if (typeof key === 'symbol' || typeof key === 'bigint' || typeof key === 'function') return typeof key;
  return `${typeof key} ${JSON.stringify(key) ?? ''}`;
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

describe('hostile input', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;

  before(async () => {
    server = await startMemcached({ args: ['-I', '2m'], memoryMb: 128 });
    const reply = await rawCommand(
      server.target,
      `set ${CANARY_KEY} 0 0 ${CANARY_VALUE.length}\r\n${CANARY_VALUE}\r\n`,
    );
    assert.equal(reply.toString('latin1'), 'STORED\r\n');
    cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        server.host,
        'connection.port',
        server.port,
        'options.request_timeout',
        5000,
      ),
    );
    await cache.open('hostile');
  });

  after(async () => {
    await cache?.close('hostile');
    await stopAllMemcached();
  });

  it(`${KEY_COUNT}+ generated keys: stored and read back equal, or refused with INVALID_KEY as predicted`, async (t) => {
    const keys: unknown[] = [...FIXED_KEYS];
    const seen = new Set<string>();
    for (let i = 0; keys.length < KEY_COUNT + FIXED_KEYS.length; i++) {
      const key = generateKey(i);
      if (!seen.has(key)) keys.push(key);
      seen.add(key);
    }
    const accepted: Array<{ key: string; value: unknown }> = [];
    let refused = 0;
    const outcome = new Map<string, number>();
    await inBatches(keys, 50, async (key) => {
      const expected = expectKey(key);
      const value = generateValue(keys.indexOf(key));
      const what = `store(${describeKey(key)})`;
      let error: unknown = null;
      try {
        await cache.store('hostile', key as string, value, 60_000);
      } catch (e) {
        error = e;
      }
      if (expected.ok) {
        assert.equal(error, null, `${what} should be accepted, got ${String(error)}`);
        accepted.push({ key: key as string, value });
      } else {
        assertTyped(error, expected.code, what);
        // Reads and removes of a refused key fail the same way; nothing is sent.
        await assert.rejects(cache.retrieve('hostile', key as string), (e: unknown) => {
          assertTyped(e, expected.code, `retrieve ${what}`);
          return true;
        });
        await assert.rejects(cache.remove('hostile', key as string), (e: unknown) => {
          assertTyped(e, expected.code, `remove ${what}`);
          return true;
        });
        refused++;
      }
      const label = expected.ok ? 'stored' : expected.code;
      outcome.set(label, (outcome.get(label) ?? 0) + 1);
    });
    // Read everything back only after all writes: distinct keys must never share an entry.
    await inBatches(accepted, 50, async ({ key, value }) => {
      const read = await cache.retrieve('hostile', key);
      assert.deepEqual(read, jsonRoundTrip(value), `retrieve(${describeKey(key)})`);
    });
    const many = await cache.retrieveMany(
      'hostile',
      accepted.slice(0, 200).map((a) => a.key),
    );
    for (const { key, value } of accepted.slice(0, 200))
      assert.deepEqual(many.get(key), jsonRoundTrip(value));
    t.diagnostic(
      `keys tried ${keys.length}: stored ${accepted.length}, refused ${refused} (${JSON.stringify(Object.fromEntries(outcome))})`,
    );
    assert.ok(keys.length >= 1000);
    assert.ok(accepted.length > 300 && refused > 100, 'the generator covers both sides of the rules');
  });

  it('edge values: max_value ± 1, oversize, BigInt, cycles, functions, symbols, Buffers', async (t) => {
    const cycle: Record<string, unknown> = { name: 'cycle' };
    cycle.self = cycle;
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const SECRET = 'S3CRET-VALUE-MARKER';
    const cases: Array<[string, unknown, Expected]> = [
      [
        'JSON string of max_value - 1 bytes',
        `${SECRET}${'x'.repeat(MAX_VALUE - 3 - SECRET.length)}`,
        { ok: true },
      ],
      [
        'JSON string of exactly max_value bytes',
        `${SECRET}${'x'.repeat(MAX_VALUE - 2 - SECRET.length)}`,
        { ok: true },
      ],
      [
        'JSON string of max_value + 1 bytes',
        `${SECRET}${'x'.repeat(MAX_VALUE - 1 - SECRET.length)}`,
        { ok: false, code: 'VALUE_TOO_LARGE' },
      ],
      ['Buffer of max_value - 1 bytes', Buffer.alloc(MAX_VALUE - 1, 7), { ok: true }],
      ['Buffer of exactly max_value bytes', Buffer.alloc(MAX_VALUE, 8), { ok: true }],
      [
        'Buffer of max_value + 1 bytes',
        Buffer.alloc(MAX_VALUE + 1, 9),
        { ok: false, code: 'VALUE_TOO_LARGE' },
      ],
      ['10 MB string', 'y'.repeat(10 * 1024 * 1024), { ok: false, code: 'VALUE_TOO_LARGE' }],
      [
        'multibyte string just over max_value',
        'é'.repeat(MAX_VALUE / 2),
        { ok: false, code: 'VALUE_TOO_LARGE' },
      ],
      [
        'escaped control chars just over max_value',
        '\x01'.repeat(Math.ceil(MAX_VALUE / 6)),
        { ok: false, code: 'VALUE_TOO_LARGE' },
      ],
      ['BigInt', 10n, { ok: false, code: 'INVALID_VALUE' }],
      ['nested BigInt', { a: [1, { b: 2n }], secret: SECRET }, { ok: false, code: 'INVALID_VALUE' }],
      ['cycle', cycle, { ok: false, code: 'INVALID_VALUE' }],
      ['200k-deep nesting', deep, { ok: false, code: 'INVALID_VALUE' }],
      [
        'throwing toJSON',
        {
          secret: SECRET,
          toJSON: () => {
            throw new Error('nope');
          },
        },
        { ok: false, code: 'INVALID_VALUE' },
      ],
      [
        'throwing getter',
        Object.defineProperty({}, 'g', {
          enumerable: true,
          get: () => {
            throw new Error('getter');
          },
        }),
        { ok: false, code: 'INVALID_VALUE' },
      ],
      ['function', () => 1, { ok: true }],
      ['symbol', Symbol('s'), { ok: true }],
      [
        'object with function and symbol members',
        { f: () => 1, s: Symbol('s'), [Symbol('k')]: 1, keep: 'kept' },
        { ok: true },
      ],
      ['undefined', undefined, { ok: true }],
      ['NaN', Number.NaN, { ok: true }],
      ['-0', -0, { ok: true }],
      ['Map and Set', { m: new Map([[1, 2]]), s: new Set([1]) }, { ok: true }],
      ['empty Buffer', Buffer.alloc(0), { ok: true }],
      [
        'Uint8Array view into a larger buffer',
        new Uint8Array(Buffer.from('0123456789').buffer, 2, 4),
        { ok: true },
      ],
      [
        'Buffer with CRLF and a fake reply',
        Buffer.from(`\r\nVALUE ${CANARY_KEY} 0 5\r\npwned\r\nEND\r\nHD\r\n`),
        { ok: true },
      ],
      ['Float64Array (JSON object)', new Float64Array([1.5, -2]), { ok: true }],
      ['empty string', '', { ok: true }],
      ['lone surrogates in a string', '\ud800x\udfff', { ok: true }],
      ['Date', new Date(0), { ok: true }],
    ];
    const results: string[] = [];
    for (const [name, value, expected] of cases) {
      const key = `value:${name.replace(/\s+/g, '_')}`;
      let error: unknown = null;
      try {
        const returned = await cache.store('hostile', key, value, 60_000);
        assert.equal(returned, value, `${name}: store resolves the stored value`);
      } catch (e) {
        error = e;
      }
      if (expected.ok) {
        assert.equal(error, null, `${name}: expected to be stored, got ${String(error)}`);
        const read = await cache.retrieve('hostile', key);
        assert.deepEqual(read, jsonRoundTrip(value), `${name}: read back`);
        results.push(`${name}: stored`);
      } else {
        assertTyped(error, expected.code, name);
        for (const text of [error.message, String(error.stack), JSON.stringify(error)]) {
          assert.ok(!text.includes(SECRET), `${name}: the error must not carry the value`);
        }
        // Nothing was sent: the key holds nothing and the connection is still in step.
        assert.equal(await cache.retrieve('hostile', key), null, `${name}: nothing stored`);
        results.push(`${name}: ${error.code}`);
      }
    }
    // One connection did all of this and is still fine.
    assert.equal(await cache.store('hostile', 'value:after', 'ok', 60_000), 'ok');
    assert.equal(await cache.retrieve('hostile', 'value:after'), 'ok');
    t.diagnostic(`${cases.length} edge values: ${results.join('; ')}`);
  });

  it('with key_prefix, max_key_size applies to the prefixed key', async () => {
    const prefixed = new MemcachedCache();
    prefixed.configure(
      ConfigParams.fromTuples(
        'connection.host',
        server.host,
        'connection.port',
        server.port,
        'options.key_prefix',
        'pfx:',
        'options.max_key_size',
        100,
      ),
    );
    await prefixed.open('prefix');
    try {
      assert.equal(await prefixed.store('prefix', 'a'.repeat(96), 1, 10_000), 1);
      await assert.rejects(
        prefixed.store('prefix', 'a'.repeat(97), 1, 10_000),
        (e: unknown) => e instanceof InvalidKeyError,
      );
      assert.equal(await cache.retrieve('hostile', `pfx:${'a'.repeat(96)}`), 1);
    } finally {
      await prefixed.close('prefix');
    }
  });

  it('typed errors carry a stable code and are MemcachedCacheError subclasses', () => {
    for (const Class of [InvalidKeyError, InvalidValueError, ValueTooLargeError, ConfigError]) {
      const error = new Class('x');
      assert.ok(error instanceof MemcachedCacheError);
      assert.equal(typeof error.code, 'string');
    }
  });

  it('last: the canary key on the same server is untouched and the server never saw a flush', async (t) => {
    const canary = await rawCommand(server.target, `get ${CANARY_KEY}\r\n`, { until: 'END\r\n' });
    assert.equal(
      canary.toString('latin1'),
      `VALUE ${CANARY_KEY} 0 ${CANARY_VALUE.length}\r\n${CANARY_VALUE}\r\nEND\r\n`,
    );
    const stats = (await rawCommand(server.target, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
    assert.match(stats, /STAT cmd_flush 0\r\n/);
    const items = /STAT curr_items (\d+)\r\n/.exec(stats)?.[1];
    t.diagnostic(`canary intact, cmd_flush 0, curr_items ${items}`);
  });
});

describe('malformed configuration', () => {
  // [what, config tuples, option the message must name]
  const CASES: Array<[string, unknown[], string]> = [
    ['port not a number', ['connection.host', '127.0.0.1', 'connection.port', 'abc'], 'connection.port'],
    ['port too large', ['connection.host', '127.0.0.1', 'connection.port', 70000], 'connection.port'],
    ['port zero', ['connection.host', '127.0.0.1', 'connection.port', 0], 'connection.port'],
    ['port negative', ['connection.host', '127.0.0.1', 'connection.port', -1], 'connection.port'],
    ['empty uri', ['connection.uri', ''], 'connection.uri'],
    ['bad scheme', ['connection.uri', 'http://127.0.0.1:11211'], 'connection.uri'],
    ['uri without host', ['connection.uri', 'memcached://'], 'connection.uri'],
    ['uri port out of range', ['connection.uri', 'memcached://127.0.0.1:99999'], 'connection.uri'],
    ['uri with a path', ['connection.uri', 'memcached://127.0.0.1:11211/db'], 'connection.uri'],
    ['unclosed IPv6 bracket', ['connection.uri', 'memcached://[::1:11211'], 'connection.uri'],
    ['empty item in a server list', ['connection.uri', '127.0.0.1:1,,127.0.0.1:2'], 'connection.uri'],
    ['host with spaces', ['connection.host', 'bad host', 'connection.port', 11211], 'connection.host'],
    [
      'unknown protocol',
      ['connection.host', '127.0.0.1', 'connection.protocol', 'http'],
      'connection.protocol',
    ],
    ['no connection at all', ['options.pool_size', 2], 'connection'],
    [
      'bad second connection',
      ['connections.0.host', '127.0.0.1', 'connections.1.host', '127.0.0.1', 'connections.1.port', 'x'],
      'connections.1.port',
    ],
    ['pool_size 0', ['connection.host', '127.0.0.1', 'options.pool_size', 0], 'options.pool_size'],
    [
      'pool_size not a number',
      ['connection.host', '127.0.0.1', 'options.pool_size', 'many'],
      'options.pool_size',
    ],
    [
      'negative request_timeout',
      ['connection.host', '127.0.0.1', 'options.request_timeout', -5],
      'options.request_timeout',
    ],
    ['negative reconnect', ['connection.host', '127.0.0.1', 'options.reconnect', -1], 'options.reconnect'],
    ['negative timeout', ['connection.host', '127.0.0.1', 'options.timeout', -1000], 'options.timeout'],
    [
      'max_key_size above 250',
      ['connection.host', '127.0.0.1', 'options.max_key_size', 251],
      'options.max_key_size',
    ],
    ['max_value 0', ['connection.host', '127.0.0.1', 'options.max_value', 0], 'options.max_value'],
    ['negative retries', ['connection.host', '127.0.0.1', 'options.retries', -1], 'options.retries'],
    ['failures 0', ['connection.host', '127.0.0.1', 'options.failures', 0], 'options.failures'],
    ['retry not a number', ['connection.host', '127.0.0.1', 'options.retry', 'soon'], 'options.retry'],
    ['negative idle', ['connection.host', '127.0.0.1', 'options.idle', -1], 'options.idle'],
    [
      'max_expiration below 1 s',
      ['connection.host', '127.0.0.1', 'options.max_expiration', 10],
      'options.max_expiration',
    ],
    ['negative max_size', ['connection.host', '127.0.0.1', 'options.max_size', -1], 'options.max_size'],
    [
      'non-boolean tls_reject_unauthorized',
      ['connection.host', '127.0.0.1', 'options.tls_reject_unauthorized', 'maybe'],
      'options.tls_reject_unauthorized',
    ],
    [
      'store_key without a credential store',
      ['connection.host', '127.0.0.1', 'credential.store_key', 'k'],
      'credential.store_key',
    ],
  ];

  for (const [what, tuples, option] of CASES) {
    it(`${what} → ConfigError naming '${option}'`, async () => {
      const cache = new MemcachedCache();
      let caught: unknown;
      try {
        // Options are checked by configure(); connections once they are resolved, by open().
        cache.configure(ConfigParams.fromTuples(...tuples));
        await cache.open('cfg');
      } catch (error) {
        caught = error;
      } finally {
        await cache.close('cfg');
      }
      assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
      assert.equal(caught.code, 'CONFIG');
      assert.ok(caught.message.includes(`'${option}'`), `message must name '${option}': ${caught.message}`);
      assert.equal(cache.isOpen(), false);
    });
  }

  it(`covers at least 20 malformed configurations (${CASES.length})`, () => {
    assert.ok(CASES.length >= 20);
  });
});
