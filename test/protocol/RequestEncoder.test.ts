import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import {
  authenticationCommand,
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaGetFlags,
  metaGetMany,
  metaInvalidate,
  metaNoop,
  metaSetHeader,
  metaTouch,
  SetMode,
  statsCommand,
  versionCommand,
} from '../../src/protocol/RequestEncoder.js';
import { wireCas, wireFlags, wireStatsGroup, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';

// The encoder takes only typed parts; these build them through the same checks the commands use.
const key = (k: string) => encodeKey(k, 250);
const ttl = (seconds: number, nowMs?: number) => wireTtl(seconds, 'ttl', undefined, nowMs);
const flags = (value: number) => wireFlags(value, 'flags');
const cas = (value: string | bigint) => wireCas(value, 'cas');
const u64 = (value: number | bigint) => wireUint64(value, 'delta');

const foo = key('foo');
const k = key('k');
const n = key('n');
const b64 = key('a b'); // token 'YSBi b'
const ITEM = metaGetFlags({ item: true });

describe('RequestEncoder', () => {
  test('a key with a space goes as base64 plus the b flag', () => {
    assert.equal(b64.token, 'YSBi b');
  });

  test('mg', () => {
    assert.equal(metaGet(foo, ITEM, 14), 'mg foo v f c O14\r\n');
    assert.equal(metaGet(foo, metaGetFlags({ item: true, quiet: true }), 0), 'mg foo v f c q O0\r\n');
    assert.equal(metaGet(b64, ITEM, 3), 'mg YSBi b v f c O3\r\n');
    assert.equal(metaGet(foo, metaGetFlags({}), 1), 'mg foo O1\r\n');
  });

  test('mg flags: item, its TTL, then T, N, R, then q; each with the space before it', () => {
    assert.equal(ITEM, ' v f c');
    assert.equal(metaGetFlags({ item: true, ttl: true }), ' v f c t');
    assert.equal(metaGetFlags({ ttl: true }), ' t');
    assert.equal(metaGetFlags({}), '');
    assert.equal(metaGetFlags({ quiet: true }), ' q');
    assert.equal(metaGetFlags({ touch: ttl(60) }), ' T60');
    assert.equal(
      metaGetFlags({
        item: true,
        ttl: true,
        quiet: true,
        touch: ttl(60),
        lease: ttl(30),
        refreshAhead: ttl(5),
      }),
      ' v f c t T60 N30 R5 q',
    );
    assert.equal(metaGetFlags({ item: true, touch: ttl(0) }), ' v f c T0');
    assert.equal(
      metaGet(foo, metaGetFlags({ item: true, ttl: true, lease: ttl(30), refreshAhead: ttl(5) }), 9),
      'mg foo v f c t N30 R5 O9\r\n',
    );
  });

  test('ms: plain set has no mode and no CAS', () => {
    assert.equal(metaSetHeader(foo, 3, ttl(0), flags(5), SetMode.Set, null, 1), 'ms foo 3 F5 O1\r\n');
  });

  test("ms: a TTL or client flags of 0 is memcached's default and is left out", () => {
    assert.equal(metaSetHeader(foo, 3, ttl(0), flags(0), SetMode.Set, null, 1), 'ms foo 3 O1\r\n');
    assert.equal(metaSetHeader(foo, 3, ttl(7), flags(0), SetMode.Set, null, 1), 'ms foo 3 T7 O1\r\n');
  });

  test('ms: each mode letter, CAS, absolute TTL', () => {
    const none = flags(0);
    assert.equal(metaSetHeader(k, 0, ttl(60), none, SetMode.Add, null, 2), 'ms k 0 T60 ME O2\r\n');
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Replace, null, 3), 'ms k 1 MR O3\r\n');
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Append, null, 4), 'ms k 1 MA O4\r\n');
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Prepend, null, 5), 'ms k 1 MP O5\r\n');
    // 100,000,000 s is beyond 30 days: absolute from the injected now (1,600,000,000).
    const absolute = ttl(100_000_000, 1_600_000_000_000);
    assert.equal(absolute, 1_700_000_000);
    assert.equal(
      metaSetHeader(k, 10, absolute, flags(4294967295), SetMode.Set, cas('18446744073709551615'), 6),
      'ms k 10 T1700000000 F4294967295 C18446744073709551615 O6\r\n',
    );
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Add, cas('7'), 8), 'ms k 1 ME C7 O8\r\n');
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Add, cas(7n), 8), 'ms k 1 ME C7 O8\r\n');
  });

  test('ms: invalidate adds I after the CAS, and only with a CAS', () => {
    const none = flags(0);
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Set, cas('5'), 1, true), 'ms k 1 C5 I O1\r\n');
    assert.equal(metaSetHeader(k, 1, ttl(0), none, SetMode.Set, null, 2, true), 'ms k 1 O2\r\n');
  });

  test('ms: a base64 key puts its b flag after the data length (memcached reads the length positionally)', () => {
    assert.equal(metaSetHeader(b64, 2, ttl(0), flags(3), SetMode.Set, null, 1), 'ms YSBi 2 b F3 O1\r\n');
    assert.equal(
      metaSetHeader(b64, 2, ttl(9), flags(0), SetMode.Add, cas('5'), 2),
      'ms YSBi 2 b T9 ME C5 O2\r\n',
    );
  });

  test('SetMode letters are the ones memcached documents', () => {
    assert.deepEqual(SetMode, { Set: 'S', Add: 'E', Replace: 'R', Append: 'A', Prepend: 'P' });
  });

  test('md, with and without CAS, quiet', () => {
    assert.equal(metaDelete(foo, null, 4), 'md foo O4\r\n');
    assert.equal(metaDelete(foo, cas('99'), 5), 'md foo C99 O5\r\n');
    assert.equal(metaDelete(b64, null, 6), 'md YSBi b O6\r\n');
    assert.equal(metaDelete(foo, null, 7, true), 'md foo q O7\r\n');
    assert.equal(metaDelete(foo, cas('99'), 8, true), 'md foo C99 q O8\r\n');
  });

  test('md I T: invalidate, with and without CAS', () => {
    assert.equal(metaInvalidate(foo, ttl(30), null, 1), 'md foo I T30 O1\r\n');
    assert.equal(metaInvalidate(foo, ttl(30), cas('9'), 2), 'md foo I T30 C9 O2\r\n');
    assert.equal(metaInvalidate(b64, ttl(1), null, 3), 'md YSBi b I T1 O3\r\n');
    // No TTL: the item keeps its expiry (a plain read giving back a stale item's win).
    assert.equal(metaInvalidate(foo, null, cas('9'), 4), 'md foo I C9 O4\r\n');
  });

  test('ma: increment, decrement, auto-create, bigint delta', () => {
    assert.equal(metaArithmetic(n, false, u64(1), null, 7), 'ma n v D1 O7\r\n');
    assert.equal(metaArithmetic(n, true, u64(3), null, 8), 'ma n v D3 MD O8\r\n');
    assert.equal(
      metaArithmetic(n, false, u64(1), { initial: u64(10), ttl: ttl(0) }, 9),
      'ma n v D1 N0 J10 O9\r\n',
    );
    assert.equal(
      metaArithmetic(n, true, u64(2), { initial: u64(5), ttl: ttl(300) }, 10),
      'ma n v D2 MD N300 J5 O10\r\n',
    );
    const max = u64(18446744073709551615n);
    assert.equal(
      metaArithmetic(n, false, max, { initial: max, ttl: ttl(0) }, 11),
      'ma n v D18446744073709551615 N0 J18446744073709551615 O11\r\n',
    );
    assert.equal(metaArithmetic(b64, false, u64(1), null, 12), 'ma YSBi b v D1 O12\r\n');
  });

  test('touch is mg with T only', () => {
    assert.equal(metaTouch(foo, ttl(30), 11), 'mg foo T30 O11\r\n');
  });

  test('a batch of mg is the lines metaGet builds, opaques counting up from first, then mn', () => {
    const quiet = metaGetFlags({ item: true, quiet: true });
    const keys = Array.from({ length: 250 }, (_, i) => key(i % 3 === 0 ? `k ${i}` : `k${i}`));
    const lineByLine = (count: number, first: number) =>
      keys
        .slice(0, count)
        .map((k, i) => metaGet(k, quiet, first + i))
        .join('') + metaNoop();
    // Across 100s and 1000s (the opaque's hundreds change mid-batch), below 100 (no leading
    // zero: O7, not O07) and up to the 9-digit limit.
    for (const first of [1, 7, 99, 100, 101, 150, 199, 950, 999, 1_000, 123_456, 999_999_750])
      for (const count of [1, 2, 3, 99, 100, 101, 250])
        assert.equal(
          metaGetMany(keys.slice(0, count), quiet, first),
          lineByLine(count, first),
          `${count} from ${first}`,
        );
    assert.equal(metaGetMany([foo, b64], quiet, 98), 'mg foo v f c q O98\r\nmg YSBi b v f c q O99\r\nmn\r\n');
    assert.equal(metaGetMany([foo, k], metaGetFlags({}), 5), 'mg foo O5\r\nmg k O6\r\nmn\r\n');
    assert.equal(metaGetMany([], quiet, 5), 'mn\r\n');
  });

  test('mn, version, stats, flush_all', () => {
    assert.equal(metaNoop(), 'mn\r\n');
    assert.equal(versionCommand(), 'version\r\n');
    assert.equal(statsCommand(null), 'stats\r\n');
    assert.equal(statsCommand(wireStatsGroup('slabs', 'group')), 'stats slabs\r\n');
    assert.equal(flushAllCommand(ttl(0)), 'flush_all\r\n');
    assert.equal(flushAllCommand(ttl(10)), 'flush_all 10\r\n');
  });

  test('ASCII auth is a classic set whose data is "<user> <password>", length in UTF-8 bytes', () => {
    assert.deepEqual(
      authenticationCommand('user', 'pa ss'),
      Buffer.from('set _auth 0 0 10\r\nuser pa ss\r\n'),
    );
    const unicode = authenticationCommand('пользователь', 'пароль');
    const data = Buffer.from('пользователь пароль', 'utf8');
    assert.deepEqual(
      unicode,
      Buffer.concat([Buffer.from(`set _auth 0 0 ${data.length}\r\n`), data, Buffer.from('\r\n')]),
    );
    assert.equal(data.length, 37);
  });
});
