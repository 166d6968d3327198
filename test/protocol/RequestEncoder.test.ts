import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import {
  authenticationCommand,
  flushAllCommand,
  metaArithmetic,
  metaDelete,
  metaGet,
  metaNoop,
  metaSetHeader,
  metaTouch,
  SetMode,
  statsCommand,
  versionCommand,
} from '../../src/protocol/RequestEncoder.js';

const b64 = encodeKey('a b', 250).token; // 'YSBi b'

describe('RequestEncoder', () => {
  test('mg', () => {
    assert.equal(metaGet('foo', 'v f c t', 14), 'mg foo v f c t O14\r\n');
    assert.equal(metaGet('foo', 'v q', 0), 'mg foo v q O0\r\n');
    assert.equal(metaGet(b64, 'v', 3), 'mg YSBi b v O3\r\n');
  });

  test('ms: plain set has no mode and no CAS', () => {
    assert.equal(metaSetHeader('foo', 3, 0, 5, SetMode.Set, '', 1), 'ms foo 3 T0 F5 O1\r\n');
  });

  test('ms: each mode letter, CAS, absolute TTL', () => {
    assert.equal(metaSetHeader('k', 0, 60, 0, SetMode.Add, '', 2), 'ms k 0 T60 F0 ME O2\r\n');
    assert.equal(metaSetHeader('k', 1, 0, 0, SetMode.Replace, '', 3), 'ms k 1 T0 F0 MR O3\r\n');
    assert.equal(metaSetHeader('k', 1, 0, 0, SetMode.Append, '', 4), 'ms k 1 T0 F0 MA O4\r\n');
    assert.equal(metaSetHeader('k', 1, 0, 0, SetMode.Prepend, '', 5), 'ms k 1 T0 F0 MP O5\r\n');
    assert.equal(
      metaSetHeader('k', 10, 1_700_000_000, 4294967295, SetMode.Set, '18446744073709551615', 6),
      'ms k 10 T1700000000 F4294967295 C18446744073709551615 O6\r\n',
    );
    assert.equal(metaSetHeader('k', 1, 0, 0, SetMode.Add, '7', 8), 'ms k 1 T0 F0 ME C7 O8\r\n');
  });

  test('ms: a base64 key puts its b flag after the data length (memcached reads the length positionally)', () => {
    assert.equal(metaSetHeader(b64, 2, 0, 3, SetMode.Set, '', 1), 'ms YSBi 2 b T0 F3 O1\r\n');
    assert.equal(metaSetHeader(b64, 2, 9, 0, SetMode.Add, '5', 2), 'ms YSBi 2 b T9 F0 ME C5 O2\r\n');
  });

  test('SetMode letters are the ones memcached documents', () => {
    assert.deepEqual(SetMode, { Set: 'S', Add: 'E', Replace: 'R', Append: 'A', Prepend: 'P' });
  });

  test('md, with and without CAS', () => {
    assert.equal(metaDelete('foo', '', 4), 'md foo O4\r\n');
    assert.equal(metaDelete('foo', '99', 5), 'md foo C99 O5\r\n');
    assert.equal(metaDelete(b64, '', 6), 'md YSBi b O6\r\n');
  });

  test('ma: increment, decrement, auto-create, bigint delta', () => {
    assert.equal(metaArithmetic('n', false, 1, 0, -1, 7), 'ma n v D1 O7\r\n');
    assert.equal(metaArithmetic('n', true, 3, 0, -1, 8), 'ma n v D3 MD O8\r\n');
    assert.equal(metaArithmetic('n', false, 1, 10, 0, 9), 'ma n v D1 N0 J10 O9\r\n');
    assert.equal(metaArithmetic('n', true, 2, 5, 300, 10), 'ma n v D2 MD N300 J5 O10\r\n');
    assert.equal(
      metaArithmetic('n', false, 18446744073709551615n, 18446744073709551615n, 0, 11),
      'ma n v D18446744073709551615 N0 J18446744073709551615 O11\r\n',
    );
    assert.equal(metaArithmetic(b64, false, 1, 0, -1, 12), 'ma YSBi b v D1 O12\r\n');
  });

  test('touch is mg with T only', () => {
    assert.equal(metaTouch('foo', 30, 11), 'mg foo T30 O11\r\n');
  });

  test('mn, version, stats, flush_all', () => {
    assert.equal(metaNoop(), 'mn\r\n');
    assert.equal(versionCommand(), 'version\r\n');
    assert.equal(statsCommand(''), 'stats\r\n');
    assert.equal(statsCommand('slabs'), 'stats slabs\r\n');
    assert.equal(flushAllCommand(0), 'flush_all\r\n');
    assert.equal(flushAllCommand(-5), 'flush_all\r\n');
    assert.equal(flushAllCommand(10), 'flush_all 10\r\n');
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
