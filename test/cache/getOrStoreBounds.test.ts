// Issue 22, items 5 and 6: every getOrStore caller settles within the bound the README states
// (lease L = ceil(lease_timeout / 1 s) + 1 s; bound L + lease_timeout + 3 × request_timeout), a
// failed load or store releases the lease at once, `undefined` is refused for everyone, and
// waiting on other callers' loads is contention, never a server timeout — on real memcached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, Descriptor, MemcachedCache, References } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const REQUEST_TIMEOUT_MS = 1000; // the default `request_timeout`

/** The README's bound on one getOrStore call for a given `lease_timeout`. */
function settleBoundMs(leaseTimeoutMs: number): number {
  const leaseMs = (Math.ceil(leaseTimeoutMs / 1000) + 1) * 1000;
  return leaseMs + leaseTimeoutMs + 3 * REQUEST_TIMEOUT_MS;
}

interface Outcome {
  ms: number;
  status: 'fulfilled' | 'rejected';
  value?: unknown;
  code?: string;
  name?: string;
  key?: string;
}

/** Runs `calls` concurrently; each outcome with the time it took to settle. */
function timed(calls: Array<() => Promise<unknown>>): Promise<Outcome[]> {
  const started = performance.now();
  return Promise.all(
    calls.map((call) =>
      call().then(
        (value): Outcome => ({ ms: performance.now() - started, status: 'fulfilled', value }),
        (error: { code?: string; name?: string; key?: string }): Outcome => ({
          ms: performance.now() - started,
          status: 'rejected',
          code: error.code ?? String(error),
          name: error.name,
          key: error.key,
        }),
      ),
    ),
  );
}

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

describe('getOrStore: every caller settles within a stated bound', () => {
  let server: MemcachedProcess;
  const caches: MemcachedCache[] = [];
  async function open(...options: unknown[]): Promise<MemcachedCache> {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port, ...options),
    );
    await cache.open(null);
    caches.push(cache);
    return cache;
  }
  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    for (const cache of caches) await cache.close(null);
    await stopAllMemcached();
  });

  it('a loader that never settles: its caller rejects LOADER_TIMEOUT at lease_timeout (signal aborted), a waiter settles too, both within the bound', {
    timeout: 20_000,
  }, async (t) => {
    const cache = await open('options.lease_timeout', 1000);
    const signals: AbortSignal[] = [];
    const never = (signal?: AbortSignal) => {
      if (signal) signals.push(signal);
      return new Promise<string>(() => {});
    };
    const [winner, waiter] = await timed([
      () => cache.getOrStore('t-never', 'never', 10_000, never),
      () => cache.getOrStore(null, 'never', 10_000, never),
    ]);
    assert.equal(winner!.code, 'LOADER_TIMEOUT');
    assert.equal(winner!.name, 'LoaderTimeoutError');
    assert.equal(winner!.key, 'never');
    assert.ok(
      winner!.ms >= 990 && winner!.ms < 1000 + REQUEST_TIMEOUT_MS,
      `winner settled after ${winner!.ms} ms`,
    );
    assert.ok(['LOADER_TIMEOUT', 'CONTENTION'].includes(waiter!.code!), `waiter: ${waiter!.code}`);
    t.diagnostic(
      `winner ${winner!.code} at ${winner!.ms.toFixed(0)} ms, waiter ${waiter!.code} at ${waiter!.ms.toFixed(0)} ms`,
    );
    for (const o of [winner!, waiter!]) assert.ok(o.ms <= settleBoundMs(1000), `settled after ${o.ms} ms`);
    assert.ok(
      signals.length >= 1 && signals.every((s) => s.aborted),
      "each loader's signal aborted at its deadline",
    );
    assert.equal((signals[0]!.reason as Error).name, 'LoaderTimeoutError');
  });

  it('refreshAhead: the first reader after expiry and a background refresh whose loader never settles both end by lease_timeout', {
    timeout: 20_000,
  }, async () => {
    const failures: string[] = [];
    let reported: () => void = () => {};
    const refreshFailed = new Promise<void>((resolve) => {
      reported = resolve;
    });
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        server.host,
        'connection.port',
        server.port,
        'options.lease_timeout',
        1000,
        'options.refresh_ahead',
        60_000,
      ),
    );
    cache.setReferences(
      References.fromTuples(new Descriptor('test', 'logger', 'memory', 'default', '1.0'), {
        debug() {},
        info() {},
        warn(_context: unknown, message: string, ...args: unknown[]) {
          failures.push(`${message} ${args.join(' ')}`);
          reported();
        },
      }),
    );
    await cache.open(null);
    caches.push(cache);
    const never = () => new Promise<string>(() => {});
    // A missing key (as after expiry): the winner's loader never settles.
    const [first] = await timed([() => cache.getOrStore(null, 'ahead', 10_000, never)]);
    assert.equal(first!.code, 'LOADER_TIMEOUT');
    assert.ok(first!.ms <= settleBoundMs(1000), `settled after ${first!.ms} ms`);
    // A value inside the refresh window: served at once, refreshed in the background by a loader
    // that never settles — cut at lease_timeout, reported, and the next reader refreshes.
    await cache.store(null, 'ahead', 'v1', 10_000);
    assert.equal(await cache.getOrStore(null, 'ahead', 10_000, never), 'v1');
    await refreshFailed;
    assert.match(failures[0]!, /ahead .*lease_timeout/);
    let refreshed: () => void = () => {};
    const loaded = new Promise<void>((resolve) => {
      refreshed = resolve;
    });
    assert.equal(
      await cache.getOrStore(null, 'ahead', 10_000, () => {
        refreshed();
        return 'v2';
      }),
      'v1',
    );
    await loaded; // the win was handed out again after the failed refresh
  });

  for (const [what, value, code] of [
    ['above max_value', 'x'.repeat(2000), 'VALUE_TOO_LARGE'],
    ['that JSON cannot encode (BigInt)', 10n, 'INVALID_VALUE'],
  ] as const) {
    it(`a loaded value ${what}: the lease is released at once, 1 winner + 5 waiters all reject ${code} in < 2 s (lease 11 s)`, {
      timeout: 40_000,
    }, async (t) => {
      const cache = await open('options.max_value', 1000);
      const key = `unstorable-${code}`;
      let loads = 0;
      const outcomes = await timed(
        times(
          6,
          () => () =>
            cache.getOrStore(null, key, 10_000, async () => {
              loads++;
              return value as never;
            }),
        ),
      );
      t.diagnostic(`${loads} loads; slowest caller ${Math.max(...outcomes.map((o) => o.ms)).toFixed(0)} ms`);
      for (const o of outcomes) {
        assert.equal(o.code, code, JSON.stringify(o));
        assert.equal(o.key, key);
        assert.ok(o.ms < 2000, `settled after ${o.ms.toFixed(0)} ms; the default lease lives 11 s`);
      }
      assert.ok(loads >= 1 && loads <= 6, `${loads} loads`);
      assert.equal(
        await cache.getOrStore(null, key, 10_000, () => 'fits'),
        'fits',
        'no placeholder left behind',
      );
    });
  }

  it('a loader resolving undefined: every caller rejects INVALID_VALUE naming the key (not undefined for one, null for the others)', {
    timeout: 40_000,
  }, async () => {
    const cache = await open();
    const outcomes = await timed(
      times(5, () => () => cache.getOrStore(null, 'undefined', 10_000, async () => undefined)),
    );
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected', `resolved ${String(o.value)}`);
      assert.equal(o.code, 'INVALID_VALUE');
      assert.equal(o.key, 'undefined');
      assert.ok(o.ms < 2000, `settled after ${o.ms.toFixed(0)} ms`);
    }
    assert.equal(
      await cache.getOrStore(null, 'undefined', 10_000, async () => null),
      null,
      'null is a value',
    );
  });

  it('20 callers, a 3 s loader: with lease_timeout 1 s it is cut at 1 s, loaders never overlap, no TIMEOUT; with lease_timeout 4 s it runs once and everyone gets its value', {
    timeout: 40_000,
  }, async (t) => {
    let active = 0;
    let mostActive = 0;
    let loads = 0;
    const slow = (signal?: AbortSignal) =>
      new Promise<string>((resolve, reject) => {
        loads++;
        active++;
        mostActive = Math.max(mostActive, active);
        const done = setTimeout(() => {
          active--;
          resolve('loaded');
        }, 3000);
        signal?.addEventListener('abort', () => {
          clearTimeout(done);
          active--;
          reject(signal.reason);
        });
      });

    const short = await open('options.lease_timeout', 1000);
    const cut = await timed(times(20, () => () => short.getOrStore(null, 'slow-1s', 10_000, slow)));
    const tally = (os: Outcome[]): string => {
      const counts: Record<string, number> = {};
      for (const o of os) counts[o.code ?? 'ok'] = (counts[o.code ?? 'ok'] ?? 0) + 1;
      return JSON.stringify(counts);
    };
    t.diagnostic(
      `lease_timeout 1 s: ${loads} loads, at most ${mostActive} at once, ${tally(cut)}, slowest ${Math.max(...cut.map((o) => o.ms)).toFixed(0)} ms`,
    );
    assert.equal(mostActive, 1, 'two loaders ran at once: the lease ran out under a loader');
    const codes = cut.map((o) => o.code ?? 'ok');
    assert.ok(!codes.includes('TIMEOUT'), `waiting on a lease is not a server timeout: ${codes.join(',')}`);
    assert.ok(
      codes.every((c) => c === 'LOADER_TIMEOUT' || c === 'CONTENTION'),
      codes.join(','),
    );
    const first = cut.reduce((a, b) => (a.ms <= b.ms ? a : b));
    assert.equal(first.code, 'LOADER_TIMEOUT');
    assert.ok(first.ms < 1000 + REQUEST_TIMEOUT_MS, `the first settled after ${first.ms.toFixed(0)} ms`);
    for (const o of cut) assert.ok(o.ms <= settleBoundMs(1000), `settled after ${o.ms.toFixed(0)} ms`);

    loads = 0;
    mostActive = 0;
    const long = await open('options.lease_timeout', 4000);
    const served = await timed(times(20, () => () => long.getOrStore(null, 'slow-4s', 10_000, slow)));
    assert.deepEqual(
      served.map((o) => o.value ?? o.code),
      times(20, () => 'loaded'),
    );
    t.diagnostic(
      `lease_timeout 4 s: ${loads} loads, ${tally(served)}, slowest ${Math.max(...served.map((o) => o.ms)).toFixed(0)} ms`,
    );
    assert.equal(loads, 1);
    for (const o of served) assert.ok(o.ms < 3000 + 1000, `settled after ${o.ms.toFixed(0)} ms`);
  });
});
