// The shared ILock fixture (the same one MemoryLock passes) against a real memcached: each
// instance is its own owner, all share one server.
import { after } from 'node:test';
import { ConfigParams, MemcachedLock } from '../../src/index.js';
import { lockFixture } from '../fixtures/LockFixture.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

let server: Promise<MemcachedProcess> | undefined;
after(stopAllMemcached);

lockFixture(
  'MemcachedLock (shared lock fixture)',
  async () => {
    server ??= startMemcached();
    const { host, port } = await server;
    const lock = new MemcachedLock();
    lock.configure(
      ConfigParams.fromTuples('connection.host', host, 'connection.port', port, 'options.retry_timeout', 50),
    );
    await lock.open(null);
    return lock;
  },
  (lock) => lock.close(null),
);
