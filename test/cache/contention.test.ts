// Issue 22, item 6: losing races to other callers is contention, reported as such — never as a
// server timeout — on real memcached, which answers every request throughout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

describe('contention is its own error', () => {
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

  it('remove() against 50 writers: every lost race rejects CONTENTION (ContentionError naming the key), none TIMEOUT', async (t) => {
    let writing = true;
    const writers = Array.from({ length: 50 }, async (_, w) => {
      for (let i = 0; writing; i++) await cache.store(null, 'contended', `w${w}-${i}`, 60_000);
    });
    const outcomes: Array<{ ok: boolean; code?: string; name?: string; key?: string; message?: string }> = [];
    for (let i = 0; i < 400; i++) {
      try {
        await cache.remove('t-contended', 'contended');
        outcomes.push({ ok: true });
      } catch (error) {
        const e = error as { code?: string; name?: string; key?: string; message?: string };
        outcomes.push({ ok: false, code: e.code, name: e.name, key: e.key, message: e.message });
      }
    }
    writing = false;
    await Promise.all(writers);
    const lost = outcomes.filter((o) => !o.ok);
    t.diagnostic(`${outcomes.length} removes, ${lost.length} lost the race to 50 writers`);
    assert.ok(lost.length > 0, 'the scenario must make remove() lose its race');
    for (const o of lost) {
      assert.equal(o.code, 'CONTENTION', `${o.code}: ${o.message}`);
      assert.equal(o.name, 'ContentionError');
      assert.equal(o.key, 'contended');
      assert.match(o.message!, /remove\(\) of key 'contended' lost the race to concurrent writers 8 times/);
    }
  });
});
