// Defect 2 of "Engine 2": memcached's clock ticks once a second, so a relative TTL of N s lives
// anywhere from N−1 to N s. A lock must exclude others for its whole TTL; an item must never
// expire earlier than asked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigParams, MemcachedCache, MemcachedLock } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const run = promisify(execFile);
const worker = new URL('./fixtures/lockWorker.ts', import.meta.url).pathname;

describe('TTLs never end early', () => {
  let server: MemcachedProcess;
  before(async () => {
    server = await startMemcached();
  });
  after(stopAllMemcached);

  test('two processes × 1,000 locks, TTL 1,000 ms, 900 ms critical section: no lock is ever held twice at once', async () => {
    const args = ['--import', 'tsx', worker, String(server.port), 'overlap', '1000', '1000', '900'];
    const [a, b] = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
    const records = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as Array<
      Array<[number, string, string, string]>
    >;
    assert.equal(records[0]!.length, 1000);
    assert.equal(records[1]!.length, 1000);
    // Each held interval counts up to the end of its section or of its lease, whichever is first
    // (a section that outran its lease is the holder's stall, not the lock's; see lockWorker.ts).
    const byKey = new Map<number, Array<[bigint, bigint]>>();
    let overran = 0;
    for (const list of records) {
      for (const [i, from, to, leaseEnd] of list) {
        if (BigInt(to) > BigInt(leaseEnd)) overran++;
        const end = BigInt(to) < BigInt(leaseEnd) ? BigInt(to) : BigInt(leaseEnd);
        const spans = byKey.get(i) ?? [];
        spans.push([BigInt(from), end]);
        byKey.set(i, spans);
      }
    }
    // The check means something only while most sections end inside their lease.
    assert.ok(
      overran < 1000,
      `${overran} of 2000 critical sections outran their lease: the machine is too loaded`,
    );
    let overlaps = 0;
    for (const [[a1, a2], [b1, b2]] of byKey.values()) if (a1 < b2 && b1 < a2) overlaps++;
    assert.equal(
      overlaps,
      0,
      `${overlaps} of 1000 locks were held by both processes at once within their leases`,
    );
  });

  test('a 1,500 ms lock is not taken by another owner before 1,500 ms', async () => {
    const config = ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port);
    const [first, second] = [new MemcachedLock(), new MemcachedLock()];
    first.configure(config);
    second.configure(config);
    await first.open(null);
    await second.open(null);
    try {
      for (let round = 0; round < 3; round++) {
        const key = `ttl-lock:${round}`;
        assert.equal(await first.tryAcquireLock(null, key, 1500), true);
        const takenAt = performance.now();
        // Polled every 20 ms: the measurement of when the lock frees (its TTL is the behaviour).
        while (!(await second.tryAcquireLock(null, key, 1500))) await new Promise((r) => setTimeout(r, 20));
        const after = performance.now() - takenAt;
        assert.ok(after >= 1500, `taken by another owner after ${after.toFixed(0)} ms`);
        assert.ok(after <= 3600, `the lock outlived its TTL by ${(after - 1500).toFixed(0)} ms`);
      }
    } finally {
      await first.close(null);
      await second.close(null);
    }
  });

  test('a cached value is still there when its TTL is nearly over', async () => {
    const cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port));
    await cache.open(null);
    try {
      const keys = Array.from({ length: 5 }, (_, i) => `ttl-item:${i}`);
      for (const key of keys) {
        await cache.store(null, key, 'v', 1000);
        await new Promise((r) => setTimeout(r, 150)); // spread the writes over memcached's clock tick
      }
      await new Promise((r) => setTimeout(r, 300)); // the behaviour under test: the items age
      // The last write is 300 ms old, the first 900 ms: all must still be there.
      for (const key of keys) assert.equal(await cache.retrieve(null, key), 'v', key);
    } finally {
      await cache.close(null);
    }
  });
});
