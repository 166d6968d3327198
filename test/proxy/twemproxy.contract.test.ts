// The seed's cache contract and the lock contract through real twemproxy (nutcracker) in front of
// three memcached servers, with options.protocol=text: the same shared fixtures MemoryCache and a
// direct MemcachedCache pass.
import { after } from 'node:test';
import { ConfigParams, MemcachedCache, MemcachedLock } from '../../src/index.js';
import { cacheFixture } from '../fixtures/CacheFixture.js';
import { lockFixture } from '../fixtures/LockFixture.js';
import {
  startMemcachedCluster,
  startTwemproxy,
  stopAllMemcached,
  stopAllTwemproxy,
  type TwemproxyProcess,
} from '../support/index.js';

let proxy: Promise<TwemproxyProcess> | undefined;
function theProxy(): Promise<TwemproxyProcess> {
  proxy ??= startMemcachedCluster(3).then((servers) =>
    startTwemproxy({ servers: servers.map((s) => ({ host: s.host, port: s.port })) }),
  );
  return proxy;
}
after(async () => {
  await stopAllTwemproxy();
  await stopAllMemcached();
});

function throughProxy(port: number, ...more: unknown[]): ConfigParams {
  return ConfigParams.fromTuples(
    'connection.host',
    '127.0.0.1',
    'connection.port',
    port,
    'options.protocol',
    'text',
    ...more,
  );
}

cacheFixture(
  'MemcachedCache behind twemproxy (protocol text, shared cache fixture)',
  async () => {
    const { port } = await theProxy();
    const cache = new MemcachedCache();
    cache.configure(throughProxy(port));
    await cache.open(null);
    return cache;
  },
  (cache) => cache.close(null),
);

lockFixture(
  'MemcachedLock behind twemproxy (protocol text, shared lock fixture)',
  async () => {
    const { port } = await theProxy();
    const lock = new MemcachedLock();
    lock.configure(throughProxy(port, 'options.retry_timeout', 50));
    await lock.open(null);
    return lock;
  },
  (lock) => lock.close(null),
);
