// Issue 21, item 8: a reply that lands after a remove (or another write) of the same key in this
// process never refills the near cache with an older value — on real memcached, each race run
// 200 times with near_cache_ttl 10 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const RUNS = 200;

describe('near cache: late replies never resurrect a removed value', () => {
  let server: MemcachedProcess;
  let near: MemcachedCache;
  before(async () => {
    server = await startMemcached();
    near = new MemcachedCache();
    near.configure(
      ConfigParams.fromTuples(
        'connection.host',
        server.host,
        'connection.port',
        server.port,
        'options.near_cache_ttl',
        10_000,
      ),
    );
    await near.open(null);
  });
  after(async () => {
    await near.close(null);
    await stopAllMemcached();
  });

  /** What memcached holds for `key`, read around the near cache. */
  async function inMemcached(key: string): Promise<string | null> {
    const item = await near.getClient().get(key);
    return item === null ? null : (JSON.parse(item.value.toString()) as string);
  }

  it(`retrieve racing remove (${RUNS} runs): the removed value is never served afterwards`, async (t) => {
    const resurrected: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const key = `retrieve-remove:${i}`;
      await near.getClient().set(key, JSON.stringify(`v${i}`), { ttl: 60 });
      // The read is sent first; its reply (the value) lands after remove() has started.
      const [read, removed] = await Promise.all([near.retrieve(null, key), near.remove(null, key)]);
      assert.equal(read, `v${i}`);
      assert.equal(removed, `v${i}`);
      const after = await near.retrieve(null, key);
      if (after !== null) resurrected.push(key);
    }
    t.diagnostic(`${resurrected.length} of ${RUNS} removed values served again`);
    assert.deepEqual(resurrected, []);
    // Still a near cache: a read with no write racing it fills it.
    await near.getClient().set('read', JSON.stringify('r'), { ttl: 60 });
    assert.equal(await near.retrieve(null, 'read'), 'r');
    await near.getClient().delete('read'); // behind the near cache's back
    assert.equal(await near.retrieve(null, 'read'), 'r', 'the settled read filled it');
  });

  it(`store racing remove (${RUNS} runs): a read afterwards returns what memcached holds`, async (t) => {
    const stale: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const key = `store-remove:${i}`;
      await Promise.all([near.store(null, key, `v${i}`, 60_000), near.remove(null, key)]);
      const [served, held] = [await near.retrieve(null, key), await inMemcached(key)];
      if (served !== held) stale.push(`${key}: served ${served}, memcached ${held}`);
    }
    t.diagnostic(`${stale.length} of ${RUNS} reads served a value memcached no longer holds`);
    assert.deepEqual(stale, []);
    // Still a near cache: a store with no write racing it fills it.
    await near.store(null, 'kept', 'v', 60_000);
    await near.getClient().delete('kept'); // behind the near cache's back
    assert.equal(await near.retrieve(null, 'kept'), 'v', 'the settled store filled it');
  });
});
