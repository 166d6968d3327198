import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheEntry } from '../../src/cache/CacheEntry.js';
import { jsonCopy, restoreValue, snapshotValue } from '../../src/cache/jsonCopy.js';
import { MemoryCache } from '../../src/cache/MemoryCache.js';
import { NullCache } from '../../src/cache/NullCache.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { ConfigError, InvalidValueError } from '../../src/component/errors.js';
import { cacheFixture } from '../fixtures/CacheFixture.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

cacheFixture('MemoryCache (CacheFixture)', async () => new MemoryCache());

describe('MemoryCache', () => {
  it('has pip-services defaults: timeout 60000 ms, max_size 1000', () => {
    const cache = new MemoryCache();
    assert.equal(cache.getTimeout(), 60000);
    assert.equal(cache.getMaxSize(), 1000);
  });

  it('reads options.timeout and options.max_size; bad values throw ConfigError naming the key', () => {
    const cache = new MemoryCache(ConfigParams.fromTuples('options.timeout', 1500, 'options.max_size', 3));
    assert.equal(cache.getTimeout(), 1500);
    assert.equal(cache.getMaxSize(), 3);
    assert.throws(
      () => cache.configure(ConfigParams.fromTuples('options.timeout', 'abc')),
      (err: any) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /options\.timeout/);
        return true;
      },
    );
    assert.throws(() => cache.configure(ConfigParams.fromTuples('options.timeout', 0)), ConfigError);
    assert.throws(
      () => cache.configure(ConfigParams.fromTuples('options.max_size', -1)),
      /options\.max_size/,
    );
  });

  it('a missing or non-positive timeout uses options.timeout', async () => {
    const cache = new MemoryCache(ConfigParams.fromTuples('options.timeout', 300));
    await cache.store(null, 'a', 'A', 0);
    await cache.store(null, 'b', 'B', -5);
    await cache.store(null, 'c', 'C', undefined);
    await cache.store(null, 'd', 'D', 5000);
    assert.equal(await cache.retrieve(null, 'a'), 'A');
    await sleep(450); // the behaviour under test: the 300 ms default timeout runs out
    assert.equal(await cache.retrieve(null, 'a'), null);
    assert.equal(await cache.retrieve(null, 'b'), null);
    assert.equal(await cache.retrieve(null, 'c'), null);
    assert.equal(await cache.retrieve(null, 'd'), 'D');
  });

  it('expires entries after their own timeout (ms precision)', async () => {
    const cache = new MemoryCache();
    await cache.store(null, 'k', 'v', 300);
    assert.equal(await cache.retrieve(null, 'k'), 'v');
    await sleep(400); // the behaviour under test: the 300 ms timeout runs out
    assert.equal(await cache.retrieve(null, 'k'), null);
    assert.equal(await cache.remove(null, 'k'), null);
  });

  it('max_size evicts the least recently used entry', async () => {
    const cache = new MemoryCache(ConfigParams.fromTuples('options.max_size', 3));
    await cache.store(null, 'a', 1, 5000);
    await cache.store(null, 'b', 2, 5000);
    await cache.store(null, 'c', 3, 5000);
    assert.equal(await cache.retrieve(null, 'a'), 1); // a is now the most recently used
    await cache.store(null, 'd', 4, 5000); // evicts b
    assert.equal(cache.getCount(), 3);
    assert.equal(await cache.retrieve(null, 'b'), null);
    assert.equal(await cache.retrieve(null, 'a'), 1);
    assert.equal(await cache.retrieve(null, 'c'), 3);
    assert.equal(await cache.retrieve(null, 'd'), 4);
    await cache.store(null, 'c', 33, 5000); // overwrite refreshes c; a is now the oldest
    await cache.store(null, 'e', 5, 5000);
    assert.equal(await cache.retrieve(null, 'a'), null);
    assert.deepEqual(await Promise.all(['c', 'd', 'e'].map((k) => cache.retrieve(null, k))), [33, 4, 5]);
  });

  it('max_size drops expired entries before live ones', async () => {
    const cache = new MemoryCache(ConfigParams.fromTuples('options.max_size', 2));
    await cache.store(null, 'old', 1, 5000);
    await cache.store(null, 'short', 2, 20);
    await sleep(40); // the behaviour under test: 'short' (20 ms) has expired
    await cache.store(null, 'new', 3, 5000); // over max: the expired 'short' goes, 'old' stays
    assert.equal(await cache.retrieve(null, 'old'), 1);
    assert.equal(await cache.retrieve(null, 'new'), 3);
  });

  it('max_size 0 means unbounded; reconfiguring to a smaller size trims at once', async () => {
    const cache = new MemoryCache(ConfigParams.fromTuples('options.max_size', 0));
    for (let i = 0; i < 1500; i++) await cache.store(null, `k${i}`, i, 5000);
    assert.equal(cache.getCount(), 1500);
    cache.configure(ConfigParams.fromTuples('options.max_size', 10));
    assert.equal(cache.getCount(), 10);
    assert.equal(await cache.retrieve(null, 'k1499'), 1499);
    assert.equal(await cache.retrieve(null, 'k0'), null);
  });

  it('default max_size keeps 1000 entries', async () => {
    const cache = new MemoryCache();
    for (let i = 0; i < 1001; i++) await cache.store(null, `k${i}`, i, 5000);
    assert.equal(cache.getCount(), 1000);
    assert.equal(await cache.retrieve(null, 'k0'), null);
    assert.equal(await cache.retrieve(null, 'k1000'), 1000);
  });

  it('store resolves the value as given; clear empties the cache', async () => {
    const cache = new MemoryCache();
    const date = new Date();
    assert.equal(await cache.store(null, 'd', date, 5000), date);
    assert.equal(await cache.retrieve(null, 'd'), date.toISOString());
    await cache.clear();
    assert.equal(cache.getCount(), 0);
    assert.equal(await cache.retrieve(null, 'd'), null);
  });
});

describe('jsonCopy', () => {
  it('normalises like a JSON round trip', () => {
    const d = new Date('2024-05-06T07:08:09.000Z');
    assert.equal(jsonCopy(d), '2024-05-06T07:08:09.000Z');
    assert.equal(jsonCopy(undefined), null);
    assert.equal(jsonCopy(null), null);
    assert.equal(
      jsonCopy(() => 1),
      null,
    );
    assert.equal(jsonCopy(Number.NaN), null);
    assert.deepEqual(jsonCopy({ a: undefined, b: [undefined, 1], c: new Map([[1, 2]]) }), {
      b: [null, 1],
      c: {},
    });
    const obj = { x: { y: 1 } };
    const copy = jsonCopy(obj);
    assert.notEqual(copy, obj);
    assert.notEqual(copy.x, obj.x);
  });

  it('copies bytes into a new Buffer', () => {
    const src = Buffer.from([1, 2, 3]);
    const copy = jsonCopy(src);
    assert.ok(Buffer.isBuffer(copy));
    src[0] = 9;
    assert.deepEqual([...copy], [1, 2, 3]);
    const view = new Uint8Array([5, 6, 7, 8]).subarray(1, 3);
    assert.deepEqual([...jsonCopy(view)], [6, 7]);
    const snap = snapshotValue(Buffer.from('ab'));
    assert.notEqual(restoreValue(snap), restoreValue(snap));
  });

  it('throws InvalidValueError naming the key for BigInt and cycles', () => {
    assert.throws(
      () => jsonCopy(1n, 'my-key', 'tr-1'),
      (err: any) => {
        assert.ok(err instanceof InvalidValueError);
        assert.equal(err.code, 'INVALID_VALUE');
        assert.equal(err.key, 'my-key');
        assert.equal(err.traceId, 'tr-1');
        assert.match(err.message, /my-key/);
        return true;
      },
    );
    const cyclic: any = {};
    cyclic.me = cyclic;
    assert.throws(() => jsonCopy(cyclic, 'k'), InvalidValueError);
  });
});

describe('CacheEntry', () => {
  it('tracks key, value and expiration', () => {
    const snap = snapshotValue('v');
    const entry = new CacheEntry('k', snap, 1000, 5000);
    assert.equal(entry.getKey(), 'k');
    assert.equal(entry.getValue(), snap);
    assert.equal(entry.getExpiration(), 6000);
    assert.equal(entry.isExpired(5999), false);
    assert.equal(entry.isExpired(6000), true);
    entry.setValue(snap, 10, 7000);
    assert.equal(entry.getExpiration(), 7010);
  });
});

describe('NullCache', () => {
  it('stores nothing: retrieve and remove resolve null, store resolves the value', async () => {
    const cache = new NullCache();
    assert.equal(await cache.store('123', 'key1', 'ABC', 5000), 'ABC');
    assert.equal(await cache.retrieve('123', 'key1'), null);
    assert.equal(await cache.remove('123', 'key1'), null);
    assert.equal(await cache.store(null, 'key1', undefined, 0), null);
  });
});
