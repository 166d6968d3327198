// Issue 13: serve stale, refresh ahead — a hot key invalidated or expiring under load, across
// processes, on real memcached.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import {
  commandSettled,
  type MemcachedProcess,
  startMemcached,
  stopAllMemcached,
  waitFor,
} from '../support/index.js';

const run = promisify(execFile);
const worker = new URL('./fixtures/hotKeyWorker.ts', import.meta.url).pathname;

interface Summary {
  reads: number;
  errors: number;
  nulls: number;
  loads: number;
  invalidations: number;
  maxSeen: number;
  tooOld: string[];
  slowestNonReloader: number;
  slowestReloader: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hot keys: stale-while-revalidate and refresh-ahead', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;
  before(async () => {
    server = await startMemcached();
    cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port));
    await cache.open(null);
  });
  after(async () => {
    await cache.close(null);
    await stopAllMemcached();
  });

  it('2 processes × 50 readers for 5 s, invalidated every 500 ms: always a value, one load per invalidation, nobody else waits', async () => {
    const LOADER_MS = 200;
    const args = (invalidateEvery: number) => [
      '--import',
      'tsx',
      worker,
      String(server.port),
      'hot:swr',
      '50',
      '5000',
      String(invalidateEvery),
      String(LOADER_MS),
    ];
    const [a, b] = await Promise.all([run(process.execPath, args(500)), run(process.execPath, args(0))]);
    const [first, second] = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as [Summary, Summary];
    for (const s of [first, second]) {
      assert.ok(s.reads > 1000, `only ${s.reads} reads`);
      assert.equal(s.errors, 0, 'every read returns a value, never an error');
      assert.equal(s.nulls, 0, 'never null');
      assert.deepEqual(s.tooOld, [], 'a stale value is only ever the version before the newest seen');
      assert.ok(
        s.slowestNonReloader < LOADER_MS,
        `a reader that did not reload waited ${s.slowestNonReloader.toFixed(0)} ms (a reload takes ${LOADER_MS} ms)`,
      );
    }
    assert.ok(first.invalidations >= 8, `${first.invalidations} invalidations`);
    assert.equal(
      first.loads + second.loads,
      first.invalidations + 1,
      'the loader runs once per invalidation, plus the first load',
    );
  });

  it('refreshAhead 1,000 ms on a 2,000 ms TTL: over 3 TTL periods no caller waits, one refresh at a time, about one per second', async () => {
    const LOADER_MS = 150;
    let running = 0;
    let overlapping = 0;
    let loads = 0;
    const load = async () => {
      running++;
      loads++;
      if (running > 1) overlapping++;
      await sleep(LOADER_MS); // the loader's duration is the behaviour: callers must not wait for it
      running--;
      return { version: loads };
    };
    await cache.getOrStore(null, 'hot:ahead', 2000, load, { refreshAhead: 1000 });
    const initialLoads = loads;
    const stopAt = performance.now() + 6000;
    let slowest = 0;
    let reads = 0;
    const versions = new Set<number>();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (performance.now() < stopAt) {
          const started = performance.now();
          const value = await cache.getOrStore(null, 'hot:ahead', 2000, load, { refreshAhead: 1000 });
          slowest = Math.max(slowest, performance.now() - started);
          versions.add(value.version);
          reads++;
          await sleep(5); // the readers' pace (the load's shape), not a wait for anything
        }
      }),
    );
    // A refresh started at the end finishes (its loader is still counted as running until then).
    assert.ok(await waitFor(() => running === 0, 2000), `${running} refreshes still running`);
    const refreshes = loads - initialLoads;
    assert.ok(reads > 2000, `only ${reads} reads`);
    assert.ok(slowest < LOADER_MS, `a caller waited ${slowest.toFixed(0)} ms: it waited for the loader`);
    assert.equal(overlapping, 0, 'two refreshes ran at once');
    // TTL 2 s is stored as 3 s (never earlier than asked) and refreshed once 1 s or less is left:
    // every 1–2 s over 6 s.
    assert.ok(refreshes >= 3 && refreshes <= 7, `${refreshes} refreshes in 6 s`);
    assert.ok(versions.size >= refreshes, 'the readers saw the refreshed values');
  });

  it('a loader that throws leaves the stale value in place, and the next caller reloads', async () => {
    await cache.store(null, 'hot:fail', 'v1', 60_000);
    assert.equal(await cache.invalidate(null, 'hot:fail'), true);
    await assert.rejects(
      cache.getOrStore(null, 'hot:fail', 60_000, () => {
        throw new Error('database down');
      }),
      /database down/,
    );
    assert.equal(await cache.retrieve(null, 'hot:fail'), 'v1', 'the stale value is still there');
    let calls = 0;
    const value = await cache.getOrStore(null, 'hot:fail', 60_000, () => {
      calls++;
      return 'v2';
    });
    assert.deepEqual([value, calls], ['v2', 1], 'the next caller won the reload');
    assert.equal(await cache.getOrStore(null, 'hot:fail', 60_000, () => 'v3'), 'v2', 'fresh again');
    assert.equal(await cache.invalidate(null, 'hot:missing'), false);
  });

  it('a refresh-ahead loader that throws keeps the value, and the next reader refreshes', async () => {
    await cache.store(null, 'hot:ahead-fail', 'old', 1500); // stored as 3 s: below a 3 s refreshAhead at once
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error('database down');
    };
    // The failed background refresh rewrites the value it had (a `cas`), which hands the win to
    // the next reader: wait for that write, not for a guess of how long it takes.
    const rewritten = commandSettled(
      (c) => c.command === 'cas' && c.key === 'hot:ahead-fail',
      2000,
      'rewrite after the failed refresh',
    );
    assert.equal(
      await cache.getOrStore(null, 'hot:ahead-fail', 60_000, failing, { refreshAhead: 3000 }),
      'old',
    );
    await rewritten;
    assert.equal(attempts, 1);
    assert.equal(await cache.retrieve(null, 'hot:ahead-fail'), 'old');
    const refreshed = commandSettled(
      (c) => c.command === 'revalidate' && c.key === 'hot:ahead-fail',
      2000,
      'background refresh write',
    );
    assert.equal(
      await cache.getOrStore(null, 'hot:ahead-fail', 60_000, async () => 'new', { refreshAhead: 3000 }),
      'old',
      'served at once while refreshing',
    );
    await refreshed;
    assert.equal(await cache.retrieve(null, 'hot:ahead-fail'), 'new', 'the next reader refreshed it');
  });

  it('a late reload lands stale: another invalidation during the reload wins', async () => {
    await cache.store(null, 'hot:late', 'v1', 60_000);
    await cache.invalidate(null, 'hot:late');
    // The loader runs until the test lets it finish: the second invalidation surely lands while
    // it is loading.
    let loading!: () => void;
    const loaderStarted = new Promise<void>((resolve) => {
      loading = resolve;
    });
    let finishLoad!: () => void;
    const loadMayFinish = new Promise<void>((resolve) => {
      finishLoad = resolve;
    });
    const slow = cache.getOrStore(null, 'hot:late', 60_000, async () => {
      loading();
      await loadMayFinish;
      return 'v2-from-before-the-second-change';
    });
    await Promise.race([loaderStarted, slow.then(() => {})]); // (a caller that never loads fails below)
    await cache.invalidate(null, 'hot:late'); // the data changed again while v2 was being loaded
    finishLoad();
    assert.equal(await slow, 'v2-from-before-the-second-change');
    let reloaded = 0;
    const next = await cache.getOrStore(null, 'hot:late', 60_000, () => {
      reloaded++;
      return 'v3';
    });
    assert.deepEqual([next, reloaded], ['v3', 1], 'the late write was stale: the next caller reloaded');
  });
});
