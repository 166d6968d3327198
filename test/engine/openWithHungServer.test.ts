// Defect 5 of "Engine 2": open() is not held hostage by one hung server; it resolves as soon as a
// server answers, and the hung one is treated like any failed server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import { pauseAndWait } from '../client/helpers.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';

describe('open() with one of three servers hung', () => {
  let servers: MemcachedProcess[];

  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(stopAllMemcached);

  test('resolves as soon as a server answers; keys of the healthy servers work at once', async () => {
    const hung = servers[1]!;
    await pauseAndWait(hung);
    const cache = new MemcachedCache();
    try {
      cache.configure(
        ConfigParams.fromTuples(
          ...servers.flatMap((s, i) => [`connections.${i}.host`, s.host, `connections.${i}.port`, s.port]),
          'options.reconnect',
          10_000,
          'options.request_timeout',
          500,
        ),
      );
      const start = performance.now();
      await cache.open('hung');
      const took = performance.now() - start;
      assert.ok(took < 1000, `open() took ${took.toFixed(0)} ms`);
      const client = cache.getClient();
      const key = Array.from({ length: 100 }, (_, i) => `open:${i}`).find(
        (k) => client.serverFor(k) !== hung.address,
      )!;
      await cache.store('hung', key, 'v', 10_000);
      assert.equal(await cache.retrieve('hung', key), 'v');
    } finally {
      hung.resume();
      await cache.close('hung');
    }
  });
});
