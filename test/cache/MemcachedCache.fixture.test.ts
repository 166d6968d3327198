// The shared ICache fixture (the same one MemoryCache passes) against a real memcached.
import { after } from 'node:test';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import { cacheFixture } from '../fixtures/CacheFixture.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

let server: Promise<MemcachedProcess> | undefined;
after(stopAllMemcached);

cacheFixture(
  'MemcachedCache (shared cache fixture)',
  async () => {
    server ??= startMemcached();
    const { host, port } = await server;
    const cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', host, 'connection.port', port));
    await cache.open(null);
    return cache;
  },
  (cache) => cache.close(null),
);
