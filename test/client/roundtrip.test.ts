// Every MemcachedClient method against one real memcached: round trips, edge-case keys and
// values, TTL handling and argument validation ("nothing sent" is checked on the server).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Item } from '../../src/client/Item.js';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import {
  AbortError,
  InvalidKeyError,
  InvalidStateError,
  InvalidValueError,
  ServerError,
  ValueTooLargeError,
} from '../../src/component/errors.js';
import {
  type MemcachedProcess,
  rawCommand,
  recordCommands,
  startMemcached,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, waitFor } from './helpers.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const NEAR_1MB = 1024 * 1024 - 1024;

/** Raw server-side stats, read on a separate socket so the client under test sends nothing. */
async function serverStats(server: MemcachedProcess): Promise<Map<string, string>> {
  const text = (await rawCommand(server.target, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
  const stats = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const m = /^STAT (\S+) (.*)$/.exec(line);
    if (m) stats.set(m[1]!, m[2]!);
  }
  return stats;
}

/** The value memcached holds for the raw key bytes (read with a base64 key), or null. */
async function rawValue(server: MemcachedProcess, key: string | Buffer): Promise<Buffer | null> {
  const bytes = Buffer.from(key);
  const plain = bytes.every((c) => c > 0x20 && c < 0x7f);
  const token = plain ? bytes.toString('latin1') : `${bytes.toString('base64')} b`;
  const reply = await rawCommand(server.target, `mg ${token} v\r\n`, {
    until: /(EN\r\n|VA \d+[^\r]*\r\n[\s\S]*\r\n)$/,
  });
  const text = reply.toString('latin1');
  if (text.startsWith('EN')) return null;
  const size = Number(/^VA (\d+)/.exec(text)![1]);
  const start = reply.indexOf('\r\n') + 2;
  return reply.subarray(start, start + size);
}

function sentCommands(stats: Map<string, string>): number {
  return [
    'cmd_get',
    'cmd_set',
    'cmd_touch',
    'cmd_flush',
    'delete_misses',
    'delete_hits',
    'incr_misses',
    'incr_hits',
  ].reduce((sum, name) => sum + Number(stats.get(name) ?? 0), 0);
}

describe('MemcachedClient round trips on real memcached', () => {
  let server: MemcachedProcess;
  let client: MemcachedClient;

  before(async () => {
    server = await startMemcached();
    client = makeClient([server], { requestTimeoutMs: 1000 });
    await client.connect();
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('get/set/add/replace/append/prepend with flags', async () => {
    assert.equal(await client.get('rt:missing'), null);
    await client.set('rt:a', 'hello', { flags: 42 });
    const item = await client.get('rt:a');
    assert.ok(item);
    assert.equal(item.value.toString(), 'hello');
    assert.equal(item.flags, 42);
    assert.match(item.cas, /^\d+$/);

    assert.equal(await client.add('rt:a', 'nope'), false);
    assert.equal(await client.add('rt:b', 'new'), true);
    assert.equal((await client.get('rt:b'))?.value.toString(), 'new');

    assert.equal(await client.replace('rt:none', 'x'), false);
    assert.equal(await client.get('rt:none'), null);
    assert.equal(await client.replace('rt:b', 'replaced', { flags: 7 }), true);
    const replaced = await client.get('rt:b');
    assert.equal(replaced?.value.toString(), 'replaced');
    assert.equal(replaced?.flags, 7);

    assert.equal(await client.append('rt:none', 'x'), false);
    assert.equal(await client.prepend('rt:none', 'x'), false);
    assert.equal(await client.append('rt:a', ' world'), true);
    assert.equal(await client.prepend('rt:a', '>> '), true);
    const appended = await client.get('rt:a');
    assert.equal(appended?.value.toString(), '>> hello world');
    assert.equal(appended?.flags, 42, 'append/prepend keep the flags');

    // Uint8Array values (a view into a bigger buffer) store exactly the viewed bytes.
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    await client.set('rt:u8', backing.subarray(1, 4));
    assert.deepEqual([...(await client.get('rt:u8'))!.value], [1, 2, 3]);
  });

  test('cas: succeeds with the current unique, fails on conflict and when gone', async () => {
    await client.set('rt:cas', 'v1');
    const first = (await client.get('rt:cas'))!;
    assert.equal(await client.cas('rt:cas', 'v2', first.cas), true);
    assert.equal((await client.get('rt:cas'))?.value.toString(), 'v2');
    assert.equal(await client.cas('rt:cas', 'v3', first.cas), false, 'stale cas is refused');
    assert.equal((await client.get('rt:cas'))?.value.toString(), 'v2');
    const second = (await client.get('rt:cas'))!;
    await client.delete('rt:cas');
    assert.equal(await client.cas('rt:cas', 'v4', second.cas), false, 'cas on a deleted key');
    assert.equal(await client.get('rt:cas'), null);
    await assert.rejects(client.cas('rt:cas', 'v', 'abc'), InvalidValueError);
    await assert.rejects(client.cas('rt:cas', 'v', ''), InvalidValueError);
  });

  test('delete, incl. conditional delete with cas', async () => {
    assert.equal(await client.delete('rt:del-missing'), false);
    await client.set('rt:del', 'x');
    assert.equal(await client.delete('rt:del'), true);
    assert.equal(await client.get('rt:del'), null);

    await client.set('rt:cdel', 'x');
    const stale = (await client.get('rt:cdel'))!;
    await client.set('rt:cdel', 'y');
    assert.equal(await client.delete('rt:cdel', { cas: stale.cas }), false, 'changed meanwhile');
    assert.equal((await client.get('rt:cdel'))?.value.toString(), 'y');
    const current = (await client.get('rt:cdel'))!;
    assert.equal(await client.delete('rt:cdel', { cas: current.cas }), true);
    assert.equal(await client.get('rt:cdel'), null);
    await assert.rejects(client.delete('rt:cdel', { cas: '12x' }), InvalidValueError);
  });

  test('incr/decr: missing → null, initial value creates, decr stops at 0, bigint delta', async () => {
    assert.equal(await client.incr('rt:ctr'), null);
    assert.equal(await client.decr('rt:ctr'), null);
    assert.equal(await client.get('rt:ctr'), null, 'no initial → nothing created');
    assert.equal(await client.incr('rt:ctr', 5, { initial: 100 }), 100n, 'created with the initial value');
    assert.equal(await client.incr('rt:ctr', 5, { initial: 100 }), 105n);
    assert.equal(await client.incr('rt:ctr'), 106n);
    assert.equal(await client.decr('rt:ctr', 6), 100n);
    assert.equal(await client.decr('rt:ctr', 1000), 0n, 'memcached stops at 0');
    assert.equal(await client.incr('rt:ctr', 7n), 7n);
    // memcached rewrites a shrinking counter in place, padding with spaces ("105" → "7  ").
    assert.equal((await client.get('rt:ctr'))?.value.toString().trim(), '7');
    assert.equal(await client.decr('rt:dctr', 1, { initial: 3 }), 3n);
    await client.set('rt:num', '41');
    assert.equal(await client.incr('rt:num'), 42n, 'a value set as text counts too');
    await assert.rejects(client.incr('rt:ctr', -1), InvalidValueError);
    await assert.rejects(client.incr('rt:ctr', 1.5), InvalidValueError);
  });

  test('counters are exact unsigned 64-bit numbers: bigint results, deltas and initials checked as such', async () => {
    const big = 2n ** 60n + 7n;
    assert.equal(await client.incr('rt:big', 0, { initial: big }), big, 'created exactly');
    assert.equal(await client.incr('rt:big', 1), big + 1n);
    assert.equal(
      (await client.get('rt:big'))?.value.toString(),
      String(big + 1n),
      'the server holds the same',
    );
    assert.equal(await client.incr('rt:big', 2n ** 62n), big + 1n + 2n ** 62n);
    // memcached wraps at 2^64.
    await client.set('rt:max', String(2n ** 64n - 1n));
    assert.equal(await client.incr('rt:max', 1), 0n);
    for (const bad of [2 ** 53 + 2, -1n, 2n ** 64n, '1', Number.NaN]) {
      await assert.rejects(client.incr('rt:big', bad as never), InvalidValueError, String(bad));
      await assert.rejects(
        client.incr('rt:big', 1, { initial: bad as never }),
        InvalidValueError,
        String(bad),
      );
    }
    assert.equal(await client.incr('rt:big', 0), big + 1n + 2n ** 62n, 'no refused call changed it');
  });

  test('incr of a non-numeric value rejects with ServerError alone; pipelined neighbours are unharmed', async () => {
    const solo = makeClient([server], { poolSize: 1 });
    await solo.set('rt:text', 'not a number');
    await solo.set('rt:neighbour', 'fine');
    const before = await serverStats(server);
    const results = await Promise.allSettled([
      solo.get('rt:neighbour'),
      solo.incr('rt:text'),
      solo.get('rt:neighbour'),
      solo.decr('rt:text', 1, { initial: 0 }),
      solo.get('rt:neighbour'),
    ]);
    assert.equal(results[1]!.status, 'rejected');
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof ServerError);
    assert.equal(((results[1] as PromiseRejectedResult).reason as ServerError).code, 'SERVER_ERROR');
    assert.equal(((results[1] as PromiseRejectedResult).reason as ServerError).key, 'rt:text');
    assert.equal(results[3]!.status, 'rejected');
    for (const i of [0, 2, 4]) {
      assert.equal(results[i]!.status, 'fulfilled', `neighbour ${i}`);
      assert.equal((results[i] as PromiseFulfilledResult<Item | null>).value?.value.toString(), 'fine');
    }
    assert.equal(solo.connectionCounts().get(server.address), 1);
    assert.equal(
      (await serverStats(server)).get('total_connections'),
      String(Number(before.get('total_connections')) + 1),
      'no reconnect',
    );
  });

  test('getMany: hits, misses, duplicates and base64 keys in one batch', async () => {
    await client.set('rt:m1', 'one');
    await client.set('rt:m2', ALL_BYTES);
    await client.set('rt:m 3', 'three');
    const found = await client.getMany(['rt:m1', 'rt:m2', 'rt:missing-1', 'rt:m 3', 'rt:m1', 'rt:missing-2']);
    assert.deepEqual([...found.keys()].sort(), ['rt:m 3', 'rt:m1', 'rt:m2']);
    assert.equal(found.get('rt:m1')?.value.toString(), 'one');
    assert.ok(found.get('rt:m2')?.value.equals(ALL_BYTES));
    assert.equal(found.get('rt:m 3')?.value.toString(), 'three');
    assert.equal((await client.getMany([])).size, 0);
    // A big batch, half of it missing.
    const keys = Array.from({ length: 500 }, (_, i) => `rt:batch:${i}`);
    await Promise.all(keys.filter((_, i) => i % 2 === 0).map((k) => client.set(k, `v-${k}`)));
    const batch = await client.getMany(keys);
    assert.equal(batch.size, 250);
    for (const [k, item] of batch) assert.equal(item.value.toString(), `v-${k}`);
  });

  test('getOrLease: two concurrent callers on a missing key → one win, one pending; then both read', async () => {
    const [a, b] = await Promise.all([client.getOrLease('rt:lease', 30), client.getOrLease('rt:lease', 30)]);
    const results = [a, b];
    assert.equal(results.filter((r) => r.win).length, 1, 'exactly one winner');
    assert.equal(results.filter((r) => r.pending).length, 1, 'the other is pending');
    for (const r of results) assert.equal(r.item, null);
    // A third caller while the winner computes is pending too, not a second winner.
    const third = await client.getOrLease('rt:lease', 30);
    assert.equal(third.win, false);
    assert.equal(third.pending, true);

    await client.set('rt:lease', 'computed');
    const [ra, rb] = await Promise.all([
      client.getOrLease('rt:lease', 30),
      client.getOrLease('rt:lease', 30),
    ]);
    for (const r of [ra, rb]) {
      assert.equal(r.item?.value.toString(), 'computed');
      assert.equal(r.win, false);
      assert.equal(r.pending, false);
    }
    assert.equal((await client.get('rt:lease'))?.value.toString(), 'computed');
  });

  test('invalidate: the value stays, stale; the first getOrLease wins the reload even after plain reads; revalidate makes it fresh', async () => {
    await client.set('rt:stale', 'old', { ttl: 60 });
    assert.equal(await client.invalidate('rt:stale', 30), true);
    assert.equal(await client.invalidate('rt:stale-missing', 30), false);
    // Plain reads are handed the stale item's win by memcached; they give it back (an
    // `invalidate` of their own, fire and forget: one per read handed the win).
    const commands = recordCommands();
    const giveBacks = (list: typeof commands.started) =>
      list.filter((c) => c.command === 'invalidate' && c.key === 'rt:stale').length;
    try {
      assert.equal((await client.get('rt:stale'))?.value.toString(), 'old');
      assert.equal((await client.getMany(['rt:stale'])).get('rt:stale')?.value.toString(), 'old');
      assert.ok(giveBacks(commands.started) >= 1, 'the win was given back');
      assert.ok(
        await waitFor(() => giveBacks(commands.settled) === giveBacks(commands.started), 2000),
        'every give-back has been answered',
      );
    } finally {
      commands.stop();
    }
    const [winner, other] = await Promise.all([
      client.getOrLease('rt:stale', 10),
      client.getOrLease('rt:stale', 10),
    ]);
    assert.deepEqual([winner.win, winner.stale, winner.item?.value.toString()], [true, true, 'old']);
    assert.deepEqual(
      [other.win, other.stale, other.pending, other.item?.value.toString()],
      [false, true, false, 'old'],
    );
    assert.ok(winner.ttl! > 0 && winner.ttl! <= 31, `ttl ${winner.ttl}`);
    await client.revalidate('rt:stale', 'new', winner.item!.cas, { ttl: 60 });
    const fresh = await client.getOrLease('rt:stale', 10);
    assert.deepEqual([fresh.win, fresh.stale, fresh.item?.value.toString()], [false, false, 'new']);
  });

  test('a plain read gives a stale win back with the expiry the item had: one that never expires stays so', async () => {
    const key = 'rt:stale-forever';
    await client.set(key, 'v1');
    const read = await client.get(key);
    await client.set(key, 'v2');
    // Written over a CAS that is no longer current: stored, stale, never expires (TTL 0).
    await client.revalidate(key, 'v3', read!.cas, { ttl: 0 });
    const commands = recordCommands();
    const giveBacks = (list: typeof commands.started) =>
      list.filter((c) => c.command === 'invalidate' && c.key === key).length;
    try {
      assert.equal((await client.get(key))?.value.toString(), 'v3');
      assert.equal(giveBacks(commands.started), 1, 'the win was given back');
      assert.ok(await waitFor(() => giveBacks(commands.settled) === 1, 2000), 'the give-back was answered');
    } finally {
      commands.stop();
    }
    const winner = await client.getOrLease(key, 10);
    assert.deepEqual(
      [winner.win, winner.stale, winner.ttl, winner.item?.value.toString()],
      [true, true, -1, 'v3'],
      'the next getOrLease wins the reload of a value that still never expires',
    );
  });

  test('getOrLease refreshAhead: one caller wins with the current value once the TTL left is below it', async () => {
    await client.set('rt:ahead', 'current', { ttl: 3 });
    const far = await client.getOrLease('rt:ahead', 10, { refreshAhead: 1 });
    assert.equal(far.win, false, 'three seconds left is not below one');
    const [first, second] = await Promise.all([
      client.getOrLease('rt:ahead', 10, { refreshAhead: 5 }),
      client.getOrLease('rt:ahead', 10, { refreshAhead: 5 }),
    ]);
    assert.deepEqual([first.win, first.stale, first.item?.value.toString()], [true, false, 'current']);
    assert.deepEqual([second.win, second.pending, second.item?.value.toString()], [false, false, 'current']);
  });

  test('stats, version, serverFor', async () => {
    const stats = await client.stats();
    assert.deepEqual([...stats.keys()], [server.address]);
    assert.equal(stats.get(server.address)?.get('pid'), String(server.pid));
    const settings = await client.stats('settings');
    assert.equal(settings.get(server.address)?.get('item_size_max'), '1048576');
    await assert.rejects(client.stats('items\r\nflush_all'), InvalidValueError);
    const version = await client.version();
    assert.match(version.get(server.address)!, /^1\.6\.\d+/);
    assert.equal(client.serverFor('any-key'), server.address);
    assert.equal(client.serverFor('ключ 🔑'), server.address);
    assert.throws(() => client.serverFor('k'.repeat(251)), InvalidKeyError);
  });

  test('values that broke older clients round-trip byte for byte', async () => {
    const values: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['end-marker', Buffer.from('abc\r\nEND\r\ndef')],
      ['only-end', Buffer.from('\r\nEND\r\n')],
      ['starts-ok', Buffer.from('OK')],
      ['starts-ok-crlf', Buffer.from('OK\r\n')],
      ['starts-value', Buffer.from('VALUE foo 0 3\r\nbar\r\nEND\r\n')],
      ['starts-en', Buffer.from('EN')],
      ['starts-en-crlf', Buffer.from('EN\r\n')],
      ['starts-va3', Buffer.from('VA 3 O1\r\nbad')],
      ['mn', Buffer.from('MN\r\n')],
      ['crlf-only', Buffer.from('\r\n')],
      ['lone-cr', Buffer.from('\r')],
      ['lone-lf', Buffer.from('\n')],
      ['all-bytes', ALL_BYTES],
      ['all-bytes-x64', Buffer.concat(Array.from({ length: 64 }, () => ALL_BYTES))],
      ['utf8', Buffer.from('ünïcødé ✓ 🔑 键')],
      ['near-1mb', Buffer.alloc(NEAR_1MB, 0xab)],
      ['near-1mb-all-bytes', Buffer.from(Array.from({ length: NEAR_1MB }, (_, i) => (i * 31) & 0xff))],
    ];
    // Stored concurrently (the connection pipelines them), read back concurrently and one by one.
    await Promise.all(values.map(([name, value]) => client.set(`rt:val:${name}`, value)));
    const read = await Promise.all(values.map(([name]) => client.get(`rt:val:${name}`)));
    values.forEach(([name, value], i) => {
      assert.ok(read[i], `${name} is stored`);
      assert.equal(read[i]!.value.length, value.length, `${name} length`);
      assert.ok(read[i]!.value.equals(value), `${name} bytes`);
    });
    const many = await client.getMany(values.map(([name]) => `rt:val:${name}`));
    for (const [name, value] of values)
      assert.ok(many.get(`rt:val:${name}`)?.value.equals(value), `${name} via getMany`);
    // The server holds exactly these bytes (not an escaped or re-encoded form).
    assert.ok((await rawValue(server, 'rt:val:all-bytes'))?.equals(ALL_BYTES));
    assert.ok((await rawValue(server, 'rt:val:end-marker'))?.equals(Buffer.from('abc\r\nEND\r\ndef')));
    // And the client still works after all of it.
    await client.set('rt:after', 'fine');
    assert.equal((await client.get('rt:after'))?.value.toString(), 'fine');
  });

  test('keys: 250 bytes ok, 251 → InvalidKeyError with nothing sent; empty and non-string keys refused', async () => {
    const k250 = 'k'.repeat(250);
    await client.set(k250, 'max');
    assert.equal((await client.get(k250))?.value.toString(), 'max');
    assert.ok((await rawValue(server, k250))?.equals(Buffer.from('max')));

    const fresh = makeClient([server]);
    const before = await serverStats(server);
    const k251 = 'k'.repeat(251);
    await assert.rejects(fresh.get(k251), InvalidKeyError);
    await assert.rejects(fresh.set(k251, 'x'), InvalidKeyError);
    await assert.rejects(fresh.delete(k251), InvalidKeyError);
    await assert.rejects(fresh.getMany(['ok', k251]), InvalidKeyError);
    // The error names the bad key, wherever it stands in the batch (duplicates before it).
    await assert.rejects(
      fresh.getMany(['ok', 'ok', 'has space', 'ok', 'bad\uD800key']),
      (error: InvalidKeyError) => error instanceof InvalidKeyError && error.key === 'bad\uD800key',
    );
    await assert.rejects(fresh.get(''), InvalidKeyError);
    await assert.rejects(fresh.get(undefined as unknown as string), InvalidKeyError);
    await assert.rejects(fresh.incr('é'.repeat(126)), InvalidKeyError, '252 UTF-8 bytes');
    // A base64 key may be at most 186 raw bytes.
    await assert.rejects(fresh.set(' '.repeat(187), 'x'), InvalidKeyError);
    // No key, nothing to ask: an empty map without a round trip.
    assert.equal((await fresh.getMany([])).size, 0);
    assert.equal(fresh.connectionCounts().get(server.address), 0, 'no connection was even opened');
    const afterStats = await serverStats(server);
    assert.equal(sentCommands(afterStats), sentCommands(before), 'the server saw no command');
    assert.equal(
      afterStats.get('total_connections'),
      String(Number(before.get('total_connections')) + 1),
      'only our stats socket',
    );
    await fresh.set(' '.repeat(186), 'spaces');
    assert.equal((await fresh.get(' '.repeat(186)))?.value.toString(), 'spaces');
  });

  test('unicode and hostile keys round-trip and cannot touch a canary key', async () => {
    await rawCommand(server.target, 'set canary 5 0 5\r\nalive\r\n');
    const flushesBefore = (await serverStats(server)).get('cmd_flush');
    const hostile = [
      'a b',
      'x\r\nflush_all',
      'x\r\nflush_all\r\n',
      'y\r\nset canary 0 0 4\r\nevil',
      'z\r\nmd canary',
      'nul\0key',
      '\0',
      ' ',
      '\t\v\f',
      'ключ',
      '键',
      '🔑',
      'emoji 🔑 key',
      'é',
      'e\u0301', // same text as 'é' when normalised, but different bytes: a different key
      '\u00ff\u0080',
      'canary ', // differs from the canary only by a space
      ' canary',
      'canary\r\n',
    ];
    await Promise.all(hostile.map((key, i) => client.set(key, `value-${i}`)));
    for (const [i, key] of hostile.entries()) {
      assert.equal((await client.get(key))?.value.toString(), `value-${i}`, JSON.stringify(key));
      // Stored under exactly the key's UTF-8 bytes.
      assert.equal(
        (await rawValue(server, Buffer.from(key, 'utf8')))?.toString(),
        `value-${i}`,
        JSON.stringify(key),
      );
    }
    const many = await client.getMany(hostile);
    assert.equal(many.size, hostile.length);
    // Every other operation with a hostile key stays within its own key, too.
    assert.equal(await client.add('x\r\nflush_all', 'no'), false);
    assert.equal(await client.append('a b', '+'), true);
    assert.equal(await client.touch('nul\0key', 100), true);
    assert.equal((await client.gat('🔑', 100))?.value.toString(), `value-${hostile.indexOf('🔑')}`);
    await assert.rejects(
      client.incr('z\r\nmd canary', 1, { initial: 1 }),
      ServerError,
      'a non-numeric value cannot be incremented',
    );
    assert.equal(await client.delete('y\r\nset canary 0 0 4\r\nevil'), true);
    assert.equal(await client.delete('canary\r\n'), true);

    const canary = (await rawCommand(server.target, 'mg canary v f\r\n', { until: /\r\n.*\r\n$/ })).toString(
      'latin1',
    );
    assert.equal(canary, 'VA 5 f5\r\nalive\r\n', 'the canary is intact');
    const stats = await serverStats(server);
    assert.equal(stats.get('cmd_flush'), flushesBefore, 'no flush_all reached the server');
    assert.equal((await client.get('a b'))?.value.toString(), 'value-0+');
    assert.notEqual(
      (await client.get('é'))?.value.toString(),
      (await client.get('e\u0301'))?.value.toString(),
    );
    // Lone surrogates have no UTF-8 form; they are refused rather than merged into U+FFFD.
    await assert.rejects(client.set('\uD800', 'x'), InvalidKeyError);
  });

  test('value over maxValueSize → ValueTooLargeError, nothing sent, connection usable after', async () => {
    const small = makeClient([server], { maxValueSize: 1000 });
    await small.set('rt:vt', 'x'.repeat(1000));
    const before = await serverStats(server);
    await assert.rejects(small.set('rt:vt', Buffer.alloc(1001)), (e: unknown) => {
      assert.ok(e instanceof ValueTooLargeError);
      assert.equal(e.code, 'VALUE_TOO_LARGE');
      assert.equal(e.key, 'rt:vt');
      return true;
    });
    await assert.rejects(small.add('rt:vt2', 'y'.repeat(5000)), ValueTooLargeError);
    await assert.rejects(small.append('rt:vt', 'y'.repeat(1001)), ValueTooLargeError);
    const afterStats = await serverStats(server);
    assert.equal(afterStats.get('cmd_set'), before.get('cmd_set'), 'no set reached the server');
    assert.equal((await small.get('rt:vt'))?.value.toString(), 'x'.repeat(1000), 'old value untouched');
    await small.set('rt:vt', 'ok');
    assert.equal((await small.get('rt:vt'))?.value.toString(), 'ok');
    assert.equal(small.connectionCounts().get(server.address), 1, 'the same connection kept serving');
    assert.equal(
      (await serverStats(server)).get('total_connections'),
      String(Number(afterStats.get('total_connections')) + 1),
    );

    // The default limit is memcached's 1 MB item size: a 1 MB value is refused locally.
    await assert.rejects(client.set('rt:huge', Buffer.alloc(1024 * 1024 + 1)), ValueTooLargeError);
  });

  test('bad TTLs and flags → InvalidValueError before anything is sent', async () => {
    for (const ttl of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(client.set('rt:ttl', 'x', { ttl }), InvalidValueError, `set ttl ${ttl}`);
      await assert.rejects(client.add('rt:ttl', 'x', { ttl }), InvalidValueError, `add ttl ${ttl}`);
      await assert.rejects(client.touch('rt:ttl', ttl), InvalidValueError, `touch ttl ${ttl}`);
      await assert.rejects(client.gat('rt:ttl', ttl), InvalidValueError, `gat ttl ${ttl}`);
      await assert.rejects(
        client.incr('rt:ttl', 1, { initial: 0, ttl }),
        InvalidValueError,
        `incr ttl ${ttl}`,
      );
    }
    for (const flags of [-1, 1.5, 2 ** 32]) {
      await assert.rejects(client.set('rt:ttl', 'x', { flags }), InvalidValueError, `flags ${flags}`);
    }
    assert.equal(await client.get('rt:ttl'), null, 'nothing was stored');
  });

  test('TTL: 31 days is stored as absolute time and lives; 1 s expires; touch and gat extend', async () => {
    const days31 = 31 * 24 * 3600;
    await client.set('rt:long', 'lives', { ttl: days31 });
    await client.set('rt:short', 'dies', { ttl: 1 });
    await client.set('rt:touched', 'kept', { ttl: 1 });
    await client.set('rt:gat', 'kept too', { ttl: 1 });
    await client.set('rt:long-touch', 'x', { ttl: 1 });
    assert.equal(await client.touch('rt:touched', 100), true);
    assert.equal(await client.touch('rt:no-such-key', 100), false);
    assert.equal((await client.gat('rt:gat', 100))?.value.toString(), 'kept too');
    assert.equal(await client.gat('rt:no-such-key', 100), null);
    assert.equal(await client.touch('rt:long-touch', days31), true);
    // The server reports the remaining TTL: about 31 days, not "already expired" or 1970.
    const ttlReply = (
      await rawCommand(server.target, 'mg rt:long t v\r\n', { until: /\r\n.*\r\n$/ })
    ).toString('latin1');
    const remaining = Number(/ t(\d+)/.exec(ttlReply)?.[1]);
    assert.ok(Math.abs(remaining - days31) <= 5, `remaining ttl ${remaining}`);
    assert.equal((await client.get('rt:short'))?.value.toString(), 'dies', 'not expired yet');

    await sleep(2100); // the behaviour under test: a 1 s TTL runs out (memcached's clock ticks in whole seconds)
    assert.equal(await client.get('rt:short'), null, '1 s TTL expired');
    assert.equal(
      (await client.get('rt:long'))?.value.toString(),
      'lives',
      '31-day TTL did not expire at once',
    );
    assert.equal((await client.get('rt:touched'))?.value.toString(), 'kept');
    assert.equal((await client.get('rt:gat'))?.value.toString(), 'kept too');
    assert.equal((await client.get('rt:long-touch'))?.value.toString(), 'x');
  });

  test('flush empties the server; close is idempotent and later calls reject with InvalidStateError', async () => {
    const other = makeClient([server]);
    await other.set('rt:flush-me', 'x');
    await other.flush();
    assert.equal(await other.get('rt:flush-me'), null);
    assert.equal(await other.get('rt:a'), null);
    const aborted = AbortSignal.abort();
    await assert.rejects(other.get('rt:x', { signal: aborted }), AbortError);

    other.close();
    other.close();
    assert.equal(other.isClosed, true);
    assert.equal(other.connectionCounts().get(server.address), 0);
    for (const call of [
      () => other.get('k'),
      () => other.set('k', 'v'),
      () => other.getMany(['k']),
      () => other.flush(),
      () => other.stats(),
      () => other.version(),
      () => other.connect(),
      () => other.incr('k'),
      () => other.getOrLease('k', 5),
    ]) {
      await assert.rejects(
        call(),
        (e: unknown) => e instanceof InvalidStateError && e.code === 'INVALID_STATE',
      );
    }
  });
});
