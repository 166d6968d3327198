// The checks that make the only numbers and tokens RequestEncoder accepts: their ranges, their
// errors (InvalidValueError naming the argument, never echoing a value that may be a secret), and
// a property that whatever a caller passes either is refused or yields exactly one request line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidKeyError, InvalidValueError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import {
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaGetFlags,
  metaInvalidate,
  metaSetHeader,
  metaTouch,
  SetMode,
  statsCommand,
} from '../../src/protocol/RequestEncoder.js';
import { RELATIVE_TTL_LIMIT_SECONDS } from '../../src/protocol/TtlEncoder.js';
import { wireCas, wireFlags, wireStatsGroup, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';

const THIRTY_DAYS = 30 * 24 * 60 * 60;
const NOW_MS = 1_700_000_000_987; // the fraction of a second is dropped
const NOW = 1_700_000_000;
const INT32_MAX = 2_147_483_647;
const UINT64_MAX = 2n ** 64n - 1n;
const KEY = 'user:42';

/** Every check with one signature (value, argument, key); wireTtl reads the injected now. */
const CHECKS = {
  wireFlags: (value: unknown, argument: string, key?: string) => wireFlags(value, argument, key),
  wireTtl: (value: unknown, argument: string, key?: string) => wireTtl(value, argument, key, NOW_MS),
  wireCas: (value: unknown, argument: string, key?: string) => wireCas(value, argument, key),
  wireUint64: (value: unknown, argument: string, key?: string) => wireUint64(value, argument, key),
  // A stats group belongs to no key.
  wireStatsGroup: (value: unknown, argument: string) => wireStatsGroup(value, argument),
} as const;
type CheckName = keyof typeof CHECKS;

/** What a message may quote: a short plain token. Anything else may be a secret. */
function isPlainToken(value: string): boolean {
  return value.length <= 24 && /^[\w .:-]*$/.test(value);
}

/** Runs `run`, which must throw InvalidValueError for `argument` (and `key`); returns the error. */
function refused(run: () => unknown, argument: string, key?: string): InvalidValueError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidValueError, `expected InvalidValueError, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_VALUE');
  assert.equal(caught.details?.argument, argument);
  assert.equal(caught.details?.requestSent, false);
  assert.equal(caught.key, key);
  assert.ok(caught.message.includes(argument), `the message names ${argument}: ${caught.message}`);
  return caught;
}

/** Asserts that `check` refuses each value, naming the argument and the key. */
function refusesAll(name: CheckName, values: readonly unknown[]): void {
  const key = name === 'wireStatsGroup' ? undefined : KEY;
  for (const value of values) refused(() => CHECKS[name](value, 'arg', key), 'arg', key);
}

// Strings that must never show up in a message: they end a line, or are long enough to be a secret.
const SECRETS = [
  '5\r\nflush_all',
  'slabs\r\nflush_all',
  'hunter2\n',
  'password=hunter2;',
  'Secret'.repeat(5),
  '1234567890123456789012345',
  'ключ',
];

describe('wireFlags', () => {
  test('accepts 0 … 2^32 − 1', () => {
    for (const value of [0, 1, 5, 2 ** 31, 2 ** 32 - 1]) assert.equal(wireFlags(value, 'flags'), value);
  });

  test('refuses non-integers, negatives, 2^32, strings, bigints', () => {
    refusesAll('wireFlags', [
      Number.NaN,
      -1,
      1.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 32,
      2 ** 53,
      '5',
      '5 s',
      '5\r\n',
      5n,
      null,
      undefined,
      {},
    ]);
  });
});

describe('wireTtl', () => {
  test('0 means "never expires" and stays 0', () => {
    assert.equal(wireTtl(0, 'ttl', undefined, NOW_MS), 0);
  });

  test('TTLs up to 30 days go as relative seconds', () => {
    assert.equal(RELATIVE_TTL_LIMIT_SECONDS, THIRTY_DAYS);
    assert.equal(wireTtl(1, 'ttl', undefined, NOW_MS), 1);
    assert.equal(wireTtl(3600, 'ttl', undefined, NOW_MS), 3600);
    assert.equal(wireTtl(THIRTY_DAYS, 'ttl', undefined, NOW_MS), THIRTY_DAYS);
  });

  test('beyond 30 days a TTL becomes an absolute Unix time from the injected now', () => {
    assert.equal(wireTtl(THIRTY_DAYS + 1, 'ttl', undefined, NOW_MS), NOW + THIRTY_DAYS + 1);
    assert.equal(wireTtl(365 * 24 * 3600, 'ttl', undefined, NOW_MS), NOW + 365 * 24 * 3600);
    assert.equal(wireTtl(THIRTY_DAYS + 1, 'ttl', undefined, 0), THIRTY_DAYS + 1);
  });

  test('now defaults to the clock', () => {
    const before = Math.floor(Date.now() / 1000);
    const ttl = wireTtl(THIRTY_DAYS + 1, 'ttl');
    const after = Math.floor(Date.now() / 1000);
    assert.ok(ttl >= before + THIRTY_DAYS + 1 && ttl <= after + THIRTY_DAYS + 1);
  });

  test('an absolute time may reach 2^31 − 1 (memcached reads it as a signed 32-bit number), not pass it', () => {
    const most = INT32_MAX - NOW;
    assert.equal(wireTtl(most, 'ttl', KEY, NOW_MS), INT32_MAX);
    const error = refused(() => wireTtl(most + 1, 'ttl', KEY, NOW_MS), 'ttl', KEY);
    assert.match(error.message, new RegExp(`at most ${most} seconds`));
    refused(() => wireTtl(1e300, 'ttl', KEY, NOW_MS), 'ttl', KEY);
    refused(() => wireTtl(Number.MAX_SAFE_INTEGER, 'ttl', KEY, NOW_MS), 'ttl', KEY);
  });

  test('refuses negatives (flush_all -5 can no longer be expressed), fractions, NaN, strings', () => {
    refused(() => wireTtl(-5, 'delaySeconds'), 'delaySeconds');
    refusesAll('wireTtl', [
      Number.NaN,
      -1,
      -5,
      1.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '5',
      '5 s',
      '60\r\nflush_all',
      5n,
      null,
      undefined,
    ]);
  });
});

describe('wireCas', () => {
  test('accepts the decimal CAS a read returned, up to 2^64 − 1, and bigints in range', () => {
    for (const value of ['0', '1', '7', '18446744073709551615', '00000000000000000001'])
      assert.equal(wireCas(value, 'cas'), value);
    assert.equal(wireCas(0n, 'cas'), '0');
    assert.equal(wireCas(7n, 'cas'), '7');
    assert.equal(wireCas(UINT64_MAX, 'cas'), '18446744073709551615');
  });

  test('refuses 2^64, negatives, non-digits, more than 20 digits, numbers, CR/LF', () => {
    refusesAll('wireCas', [
      '',
      '18446744073709551616',
      '99999999999999999999',
      '000000000000000000001',
      2n ** 64n,
      -1n,
      '-1',
      '1.5',
      '0x10',
      '1e3',
      ' 1',
      '1 ',
      '5 s',
      '１',
      '1\r\n',
      '1\nmd x',
      '1\r',
      5,
      Number.NaN,
      null,
      undefined,
    ]);
  });
});

describe('wireUint64', () => {
  test('accepts 0 … 2^64 − 1: numbers up to 2^53 − 1, bigints beyond', () => {
    assert.equal(wireUint64(0, 'delta'), 0n);
    assert.equal(wireUint64(1, 'delta'), 1n);
    assert.equal(wireUint64(Number.MAX_SAFE_INTEGER, 'delta'), 2n ** 53n - 1n);
    assert.equal(wireUint64(0n, 'delta'), 0n);
    assert.equal(wireUint64(2n ** 53n, 'delta'), 2n ** 53n);
    assert.equal(wireUint64(UINT64_MAX, 'delta'), UINT64_MAX);
  });

  test('refuses numbers above 2^53 (they must be bigints), 2^64, negatives, fractions, strings', () => {
    const error = refused(() => wireUint64(2 ** 53, 'delta', KEY), 'delta', KEY);
    assert.match(error.message, /bigint/);
    refusesAll('wireUint64', [
      2 ** 53,
      2 ** 53 + 2,
      2 ** 64,
      2n ** 64n,
      -1,
      -1n,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '5',
      '5 s',
      '1\r\n',
      null,
      undefined,
    ]);
  });
});

describe('wireStatsGroup', () => {
  test('accepts the groups memcached answers with statistics, and nothing else', () => {
    for (const value of ['settings', 'slabs', 'items', 'sizes', 'conns', 'extstore'])
      assert.equal(wireStatsGroup(value, 'group'), value);
    // An unknown group answers a bare ERROR; reset and detail change the server.
    refusesAll('wireStatsGroup', [
      'reset',
      'detail on',
      'detail dump',
      'a b c d',
      'x'.repeat(32),
      'cachedump 1 1',
    ]);
  });

  test('refuses empty, upper case, digits, extra spaces, five words, CR/LF', () => {
    refusesAll('wireStatsGroup', [
      '',
      'SLABS',
      'cachedump 1 1',
      'slabs ',
      ' slabs',
      'detail  dump',
      'a b c d e',
      'x'.repeat(33),
      'slabs\r\nflush_all',
      'slabs\n',
      'slabs\r',
      5,
      null,
      undefined,
    ]);
  });

  test('names no key', () => {
    assert.equal(refused(() => wireStatsGroup('\n', 'group'), 'group').key, undefined);
  });
});

describe('errors never echo a value that may be a secret', () => {
  test('a string that is not a short plain token is never quoted', () => {
    for (const [name, check] of Object.entries(CHECKS)) {
      for (const secret of SECRETS) {
        const key = name === 'wireStatsGroup' ? undefined : KEY;
        const error = refused(() => check(secret, 'arg', key), 'arg', key);
        assert.ok(!error.message.includes(secret), `${name}: ${JSON.stringify(error.message)}`);
        assert.match(error.message, /got a string$/, name);
      }
    }
  });

  test('a short plain token is quoted, to help the caller', () => {
    const error = refused(() => wireTtl('5 s', 'ttl', KEY), 'ttl', KEY);
    assert.match(error.message, /got '5 s'$/);
  });
});

// ----- Properties ---------------------------------------------------------------------------------

/** Anything a caller might pass where a number or token is expected, biased to the edges. */
const anyInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('0', '1', '9', 'a', 'z', '_', ' ', '\r', '\n', 'S', '-', '.') }),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.constantFrom('\r\n', '\n', '\r', ' ', ''), fc.string())
    .map(([n, sep, tail]) => `${n}${sep}${tail}`),
  fc.integer(),
  fc.integer({ min: -2, max: 2 ** 32 + 2 }),
  fc.integer({ min: THIRTY_DAYS - 2, max: INT32_MAX }),
  fc.double(),
  fc.bigInt(),
  fc.bigInt({ min: -2n, max: 2n ** 64n + 2n }),
  fc.constantFrom(
    0,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53,
    THIRTY_DAYS,
    THIRTY_DAYS + 1,
    INT32_MAX - NOW,
    INT32_MAX - NOW + 1,
    UINT64_MAX,
    2n ** 64n,
    '18446744073709551615',
    '18446744073709551616',
    'slabs',
    'detail dump',
    null,
    undefined,
    true,
  ),
);

/** Keys of every kind: plain, with CR/LF and spaces, non-ASCII, lone surrogates, too long, not strings. */
const anyKey: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\r', '\n', '\0', 'é', '\uD800', 'b') }),
  fc.constantFrom('k', 'a b', 'x\r\nflush_all', 'mg foo v', ' b', 5, null),
);

/** The message a check gives for a string that is not a plain token: the same for all of them. */
const hiddenMessage = Object.fromEntries(
  Object.entries(CHECKS).map(([name, check]) => [name, refused(() => check('\n', 'arg'), 'arg').message]),
) as Record<CheckName, string>;

/**
 * Runs a check on an arbitrary value: the typed result, or undefined when it refused with an
 * InvalidValueError that names the argument and the key and says nothing of a non-plain string.
 */
function attempt<N extends CheckName>(
  name: N,
  value: unknown,
  argument: string,
): ReturnType<(typeof CHECKS)[N]> | undefined {
  const key = name === 'wireStatsGroup' ? undefined : KEY;
  try {
    return CHECKS[name](value, argument, key) as ReturnType<(typeof CHECKS)[N]>;
  } catch (error) {
    assert.ok(error instanceof InvalidValueError, `${name}: ${String(error)}`);
    assert.equal(error.details?.argument, argument);
    assert.equal(error.key, key);
    if (typeof value === 'string' && !isPlainToken(value))
      assert.equal(error.message, hiddenMessage[name].replace('arg', argument));
    return undefined;
  }
}

/** A key through encodeKey, or undefined when it refused it (InvalidKeyError). */
function attemptKey(key: unknown) {
  try {
    return encodeKey(key, 250);
  } catch (error) {
    assert.ok(error instanceof InvalidKeyError, String(error));
    return undefined;
  }
}

/** Exactly one line: one CRLF, at the end, and no other CR or LF. Then the line's expected shape. */
function assertOneLine(line: string, shape: RegExp): void {
  assert.ok(line.endsWith('\r\n'), JSON.stringify(line));
  assert.ok(!/[\r\n]/.test(line.slice(0, -2)), JSON.stringify(line));
  assert.match(line, shape);
}

const RUNS = { numRuns: 2000 };

describe('properties', () => {
  test('each check refuses with InvalidValueError or returns a value in its range', () => {
    fc.assert(
      fc.property(anyInput, (value) => {
        const flags = attempt('wireFlags', value, 'flags');
        if (flags !== undefined) assert.ok(Number.isInteger(flags) && flags >= 0 && flags <= 2 ** 32 - 1);
        const ttl = attempt('wireTtl', value, 'ttl');
        if (ttl !== undefined) {
          assert.ok(Number.isInteger(ttl) && ttl >= 0 && ttl <= INT32_MAX);
          // Relative up to 30 days, else absolute from the injected now.
          assert.equal(ttl, (value as number) <= THIRTY_DAYS ? value : NOW + (value as number));
        }
        const cas = attempt('wireCas', value, 'cas');
        if (cas !== undefined) assert.ok(/^\d{1,20}$/.test(cas) && BigInt(cas) <= UINT64_MAX);
        const u64 = attempt('wireUint64', value, 'delta');
        if (u64 !== undefined) {
          assert.equal(typeof u64, 'bigint');
          assert.ok(u64 >= 0n && u64 <= UINT64_MAX);
          assert.equal(u64, BigInt(value as number | bigint));
        }
        const group = attempt('wireStatsGroup', value, 'group');
        if (group !== undefined) assert.match(group, /^[a-z_]+( [a-z_]+)*$/);
      }),
      RUNS,
    );
  });

  test('ms: whatever is passed, the header is one line or nothing', () => {
    fc.assert(
      fc.property(
        anyKey,
        fc.nat(),
        anyInput,
        anyInput,
        fc.constantFrom(...Object.values(SetMode)),
        fc.option(anyInput, { nil: null }),
        fc.nat(),
        fc.boolean(),
        (rawKey, length, rawTtl, rawFlags, mode, rawCas, opaque, invalidate) => {
          const key = attemptKey(rawKey);
          const ttl = attempt('wireTtl', rawTtl, 'ttl');
          const flags = attempt('wireFlags', rawFlags, 'flags');
          const cas = rawCas === null ? null : attempt('wireCas', rawCas, 'cas');
          if (key === undefined || ttl === undefined || flags === undefined || cas === undefined) return;
          assertOneLine(
            metaSetHeader(key, length, ttl, flags, mode, cas, opaque, invalidate),
            /^ms [\x21-\x7e]+ \d+( b)?( T[1-9]\d*)?( F[1-9]\d*)?( M[ERAP])?( C\d+( I)?)? O\d+\r\n$/,
          );
        },
      ),
      RUNS,
    );
  });

  test('md I (T): one line or nothing', () => {
    fc.assert(
      fc.property(
        anyKey,
        fc.option(anyInput, { nil: null }),
        fc.option(anyInput, { nil: null }),
        fc.nat(),
        (rawKey, rawTtl, rawCas, opaque) => {
          const key = attemptKey(rawKey);
          const ttl = rawTtl === null ? null : attempt('wireTtl', rawTtl, 'staleTtl');
          const cas = rawCas === null ? null : attempt('wireCas', rawCas, 'cas');
          if (key === undefined || ttl === undefined || cas === undefined) return;
          assertOneLine(
            metaInvalidate(key, ttl, cas, opaque),
            /^md [\x21-\x7e]+( b)? I( T\d+)?( C\d+)? O\d+\r\n$/,
          );
        },
      ),
      RUNS,
    );
  });

  test('md: one line or nothing', () => {
    fc.assert(
      fc.property(
        anyKey,
        fc.option(anyInput, { nil: null }),
        fc.nat(),
        fc.boolean(),
        (rawKey, rawCas, opaque, quiet) => {
          const key = attemptKey(rawKey);
          const cas = rawCas === null ? null : attempt('wireCas', rawCas, 'cas');
          if (key === undefined || cas === undefined) return;
          assertOneLine(metaDelete(key, cas, opaque, quiet), /^md [\x21-\x7e]+( b)?( C\d+)?( q)? O\d+\r\n$/);
        },
      ),
      RUNS,
    );
  });

  test('ma: one line or nothing', () => {
    fc.assert(
      fc.property(
        anyKey,
        fc.boolean(),
        anyInput,
        fc.option(fc.tuple(anyInput, anyInput), { nil: null }),
        fc.nat(),
        (rawKey, decrement, rawDelta, rawCreate, opaque) => {
          const key = attemptKey(rawKey);
          const delta = attempt('wireUint64', rawDelta, 'delta');
          let create: Parameters<typeof metaArithmetic>[3] = null;
          if (rawCreate !== null) {
            const initial = attempt('wireUint64', rawCreate[0], 'initial');
            const ttl = attempt('wireTtl', rawCreate[1], 'ttl');
            if (initial === undefined || ttl === undefined) return;
            create = { initial, ttl };
          }
          if (key === undefined || delta === undefined) return;
          assertOneLine(
            metaArithmetic(key, decrement, delta, create, opaque),
            /^ma [\x21-\x7e]+( b)? v D\d+( MD)?( N\d+ J\d+)? O\d+\r\n$/,
          );
        },
      ),
      RUNS,
    );
  });

  test('mg (and touch) with arbitrary keys and TTL flags: one line or nothing', () => {
    const maybeTtl = fc.option(anyInput, { nil: undefined });
    fc.assert(
      fc.property(
        anyKey,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        maybeTtl,
        maybeTtl,
        maybeTtl,
        fc.nat(),
        (rawKey, item, ttl, quiet, rawTouch, rawLease, rawRefresh, opaque) => {
          const key = attemptKey(rawKey);
          const touch = rawTouch === undefined ? undefined : attempt('wireTtl', rawTouch, 'ttl');
          const lease = rawLease === undefined ? undefined : attempt('wireTtl', rawLease, 'leaseTtl');
          const refreshAhead =
            rawRefresh === undefined ? undefined : attempt('wireTtl', rawRefresh, 'refreshAhead');
          if (key === undefined) return;
          if (rawTouch !== undefined && touch === undefined) return;
          if (rawLease !== undefined && lease === undefined) return;
          if (rawRefresh !== undefined && refreshAhead === undefined) return;
          const fields = {
            item,
            ttl,
            quiet,
            ...(touch === undefined ? {} : { touch }),
            ...(lease === undefined ? {} : { lease }),
            ...(refreshAhead === undefined ? {} : { refreshAhead }),
          };
          assertOneLine(
            metaGet(key, metaGetFlags(fields), opaque),
            /^mg [\x21-\x7e]+( b)?( v f c)?( t)?( T\d+)?( N\d+)?( R\d+)?( q)? O\d+\r\n$/,
          );
          if (touch !== undefined)
            assertOneLine(metaTouch(key, touch, opaque), /^mg [\x21-\x7e]+( b)? T\d+ O\d+\r\n$/);
        },
      ),
      RUNS,
    );
  });

  test('stats and flush_all: one line or nothing', () => {
    fc.assert(
      fc.property(fc.option(anyInput, { nil: null }), anyInput, (rawGroup, rawDelay) => {
        const group = rawGroup === null ? null : attempt('wireStatsGroup', rawGroup, 'group');
        if (group !== undefined) assertOneLine(statsCommand(group), /^stats( [a-z_]+)*\r\n$/);
        const delay = attempt('wireTtl', rawDelay, 'delaySeconds');
        if (delay !== undefined) assertOneLine(flushAllCommand(delay), /^flush_all( \d+)?\r\n$/);
      }),
      RUNS,
    );
  });
});
