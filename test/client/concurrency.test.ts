// Many concurrent operations through one client, on one and on three real servers, plus the
// pool's limits (poolSize, idle timeout) and unix-socket servers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import {
  type MemcachedProcess,
  rawCommand,
  recordConnects,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, pauseAndWait, waitFor } from './helpers.js';

const N = 10_000;

/** A distinct value per key: the key itself, some random bytes, sizes from 0 to ~20 KB. */
function valueFor(i: number, key: string): Buffer {
  const size =
    i % 997 === 0 ? 20_000 + (i % 7) : i % 13 === 0 ? 0 : i % 5 === 0 ? 1000 + (i % 300) : 16 + (i % 50);
  if (size === 0) return Buffer.alloc(0);
  const head = Buffer.from(`${key}|`);
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]).subarray(
    0,
    Math.max(size, head.length),
  );
}

async function roundTrip(client: MemcachedClient, prefix: string): Promise<void> {
  const keys = Array.from({ length: N }, (_, i) => (i % 10 === 0 ? `${prefix} ключ ${i}` : `${prefix}:${i}`));
  const values = keys.map((k, i) => valueFor(i, k));
  // Keys with an empty value are distinct by key only; make sure there are some.
  assert.ok(values.some((v) => v.length === 0));

  // 10,000 sets at once.
  await Promise.all(keys.map((k, i) => client.set(k, values[i]!, { flags: i })));
  // 10,000 gets at once.
  const items = await Promise.all(keys.map((k) => client.get(k)));
  items.forEach((item, i) => {
    assert.ok(item, `${keys[i]} missing`);
    assert.equal(item.flags, i, `${keys[i]} flags`);
    assert.ok(item.value.equals(values[i]!), `${keys[i]} value`);
  });
  // Gets and sets interleaved: half the keys are overwritten while the other half are read.
  const next = keys.map((k, i) => (i % 2 === 0 ? Buffer.from(`new|${k}|${i}`) : values[i]!));
  const mixed = await Promise.all(
    keys.map((k, i) => (i % 2 === 0 ? client.set(k, next[i]!).then(() => null) : client.get(k))),
  );
  mixed.forEach((item, i) => {
    if (i % 2 === 1) assert.ok(item?.value.equals(values[i]!), `${keys[i]} during writes`);
  });
  // One getMany over all of them (one pipelined batch per server).
  const many = await client.getMany(keys);
  assert.equal(many.size, N);
  keys.forEach((k, i) => {
    assert.ok(many.get(k)?.value.equals(next[i]!), `${k} via getMany`);
  });
}

describe('concurrency and pooling on real memcached', () => {
  let single: MemcachedProcess;
  let cluster: MemcachedProcess[];

  before(async () => {
    [single, cluster] = await Promise.all([startMemcached(), startMemcachedCluster(3)]);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('10,000 concurrent sets then gets, one server: every key gets its own value back', async () => {
    // Correctness, not latency, is under test: a generous timeout keeps a loaded machine from failing it.
    const client = makeClient([single], { requestTimeoutMs: 10_000 });
    await roundTrip(client, 'c1');
    client.close();
  });

  test('10,000 concurrent sets then gets, three servers: every key gets its own value back', async () => {
    const client = makeClient(cluster, { requestTimeoutMs: 10_000 });
    await roundTrip(client, 'c3');
    // The keys really were spread: every server holds some.
    const stats = await client.stats();
    for (const [id, s] of stats)
      assert.ok(Number(s.get('curr_items')) > 1000, `${id} holds ${s.get('curr_items')}`);
    client.close();
  });

  test('getMany across three servers: hits and misses interleaved, duplicates, base64 keys, each value under its key', async () => {
    const client = makeClient(cluster, { requestTimeoutMs: 10_000 });
    const getsByServer = async () => {
      const gets = new Map<string, number>();
      for (const [id, s] of await client.stats()) gets.set(id, Number(s.get('cmd_get')));
      return gets;
    };
    // Every third key is stored; every seventh needs base64 on the wire.
    const keys = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `gm3 ключ ${i}` : `gm3:${i}`));
    const stored = keys.filter((_, i) => i % 3 === 0);
    await Promise.all(stored.map((k) => client.set(k, `value of ${k}`)));
    const before = await getsByServer();
    // Each key asked twice, the second time in reverse order.
    const many = await client.getMany([...keys, ...keys.slice().reverse()]);
    assert.equal(many.size, stored.length);
    for (const k of stored) assert.equal(many.get(k)?.value.toString(), `value of ${k}`, k);
    // memcached counts a get per key asked, hit or miss: each key went on the wire once, and
    // every server was asked for some of them.
    let asked = 0;
    for (const [id, gets] of await getsByServer()) {
      const share = gets - before.get(id)!;
      assert.ok(share > 0, `${id} was asked for none`);
      asked += share;
    }
    assert.equal(asked, keys.length);
    client.close();
  });

  test('poolSize 1 never opens more than one connection under 1,000 concurrent ops', async () => {
    const client = makeClient([single], { poolSize: 1 });
    const before = await rawStat(single, 'total_connections');
    let most = 0;
    const ops = Array.from({ length: 1000 }, (_, i) => {
      const p = i % 2 === 0 ? client.set(`p1:${i}`, `v${i}`) : client.get(`p1:${i - 1}`);
      most = Math.max(most, client.connectionCounts().get(single.address)!);
      return p;
    });
    await Promise.all(ops);
    most = Math.max(most, client.connectionCounts().get(single.address)!);
    assert.equal(most, 1);
    assert.equal(
      Number(await rawStat(single, 'total_connections')) - Number(before),
      1 + 1,
      'one client socket + our stats socket',
    );
    client.close();
  });

  test('a bigger pool grows under load but never beyond poolSize', async () => {
    const client = makeClient([single], { poolSize: 3 });
    let most = 0;
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 3000; i++) {
      ops.push(client.set(`p3:${i}`, 'x'.repeat(100)));
      most = Math.max(most, client.connectionCounts().get(single.address)!);
    }
    await Promise.all(ops);
    assert.ok(most > 1 && most <= 3, `most connections: ${most}`);
    client.close();
  });

  test('idleTimeoutMs 200 closes idle connections; the next op reconnects', async () => {
    const client = makeClient([single], { idleTimeoutMs: 200, poolSize: 2 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`idle:${i}`, 'v')));
    assert.ok(client.connectionCounts().get(single.address)! >= 1);
    const dropped = await waitFor(() => client.connectionCounts().get(single.address) === 0, 600);
    assert.ok(dropped, `still open: ${client.connectionCounts().get(single.address)}`);
    assert.equal((await client.get('idle:7'))?.value.toString(), 'v');
    assert.equal(client.connectionCounts().get(single.address), 1);
    client.close();
  });

  test('a busy connection is not closed as idle', async () => {
    const client = makeClient([single], { idleTimeoutMs: 200, poolSize: 1, requestTimeoutMs: 5000 });
    const connects = recordConnects();
    try {
      await client.connect();
      // Used every 50 ms, for longer than the idle timeout: never idle for 200 ms. (The pace is
      // the behaviour under test, not a wait for an event.)
      const deadline = Date.now() + 500;
      while (Date.now() < deadline) {
        await client.set('busy', 'v');
        assert.equal(client.connectionCounts().get(single.address), 1);
        await sleep(50);
      }
      // Waiting for a reply for longer than the idle timeout is busy too: the server is stopped
      // with a request in flight for 3 sweeps' worth of idle time.
      await pauseAndWait(single);
      let inflight: ReturnType<MemcachedClient['get']>;
      try {
        inflight = client.get('busy');
        await sleep(600); // the behaviour under test: 3 × idleTimeoutMs with a request unanswered
      } finally {
        single.resume();
      }
      assert.equal((await inflight)?.value.toString(), 'v', 'answered after the resume');
      // The same connection did all of it: closing it (and opening another on the next call)
      // would show as a second connection attempt.
      assert.equal(connects.started.length, 1, `${connects.started.length} connections opened`);
    } finally {
      connects.stop();
    }
    client.close();
  });

  test('unix socket server: round trips, hostile keys, big values, getMany', async () => {
    const unix = await startMemcached({ unixSocket: true });
    assert.ok(unix.socketPath);
    const client = makeClient([unix]);
    assert.deepEqual(await client.connect(), [unix.socketPath]);
    assert.equal(client.serverFor('k'), unix.socketPath);
    await client.set('u:k', 'unix');
    await client.set('u:a b\r\nflush_all', Buffer.alloc(500_000, 1));
    assert.equal((await client.get('u:k'))?.value.toString(), 'unix');
    assert.equal((await client.get('u:a b\r\nflush_all'))?.value.length, 500_000);
    const keys = Array.from({ length: 2000 }, (_, i) => `u:${i}`);
    await Promise.all(keys.map((k) => client.set(k, k)));
    const many = await client.getMany(keys);
    assert.equal(many.size, 2000);
    for (const k of keys) assert.equal(many.get(k)?.value.toString(), k);
    assert.equal((await client.version()).get(unix.socketPath!)?.startsWith('1.6'), true);
    const raw = (await rawCommand(unix.target, 'mg u:k v\r\n', { until: /\r\n.*\r\n$/ })).toString();
    assert.equal(raw, 'VA 4\r\nunix\r\n');
    client.close();
    assert.equal(client.connectionCounts().get(unix.socketPath!), 0);
  });
});

async function rawStat(server: MemcachedProcess, name: string): Promise<string> {
  const text = (await rawCommand(server.target, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
  return new RegExp(`^STAT ${name} (\\S+)\\r$`, 'm').exec(text)![1]!;
}
