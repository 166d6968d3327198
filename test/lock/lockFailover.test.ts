// Issue 21, item 2: lock keys never fail over. Owner 1 holds a lock on its home server; the
// server pauses; owner 2's client ejects it. Were the lock key routed to another server, owner 2
// would take it there while owner 1 still holds it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigParams, ConnectionError, LockTimeoutError, MemcachedLock } from '../../src/index.js';
import { closeAll } from '../client/helpers.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached, waitFor } from '../support/index.js';

function lockOf(servers: MemcachedProcess[]): MemcachedLock {
  const tuples: unknown[] = ['options.request_timeout', 300, 'options.failures', 1, 'options.retry', 300];
  for (const [i, s] of servers.entries())
    tuples.push(`connections.${i}.host`, s.host, `connections.${i}.port`, s.port);
  const lock = new MemcachedLock();
  lock.configure(ConfigParams.fromTuples(...tuples));
  return lock;
}

/** One attempt: true, false, or the error it rejected with. */
async function attempt(lock: MemcachedLock, key: string): Promise<boolean | Error> {
  try {
    return await lock.tryAcquireLock('failover', key, 60_000);
  } catch (error) {
    return error as Error;
  }
}

describe('a lock key never fails over', () => {
  let servers: MemcachedProcess[];
  let owner1: MemcachedLock;
  let owner2: MemcachedLock;
  before(async () => {
    servers = await startMemcachedCluster(3);
    owner1 = lockOf(servers);
    owner2 = lockOf(servers);
    await owner1.open('failover');
    await owner2.open('failover');
  });
  after(async () => {
    await owner1.close('failover');
    await owner2.close('failover');
    closeAll();
    await stopAllMemcached();
  });

  test('20 failovers of the lock’s home server: 0 double owners', async () => {
    const client2 = owner2.getClient();
    let doubleOwners = 0;
    const refusals = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const key = `failover-lock:${round}`;
      const home = servers.find((s) => s.address === client2.serverFor(key))!;
      assert.equal(await owner1.tryAcquireLock('failover', key, 60_000), true, `round ${round}: owner 1`);
      await home.pauseAndWait();
      try {
        // Owner 2 tries until its client has ejected the home server, then five times more.
        const ejected = await waitFor(async () => {
          if ((await attempt(owner2, key)) === true) doubleOwners++;
          return !client2.cluster.isAlive(home.address);
        }, 10_000);
        assert.ok(ejected, `round ${round}: ${home.address} was not ejected`);
        for (let i = 0; i < 5; i++) {
          const outcome = await attempt(owner2, key);
          if (outcome === true) doubleOwners++;
          else if (outcome instanceof Error) refusals.add(`${outcome.name}: ${outcome.message}`);
        }
      } finally {
        home.resume();
      }
      assert.ok(await waitFor(() => client2.cluster.isAlive(home.address), 10_000), 'the home rejoined');
      await owner1.releaseLock('failover', key);
      await owner2.acquireLock('failover', key, 60_000, 3000);
      await owner2.releaseLock('failover', key);
    }
    assert.equal(doubleOwners, 0, `${doubleOwners} attempts of owner 2 took a lock owner 1 held`);
    for (const refusal of refusals) assert.match(refusal, /^ConnectionError: .*does not fail over/);
  });

  test('while the home server is out, acquireLock waits until its timeout', async () => {
    const client2 = owner2.getClient();
    const key = 'failover-lock:wait';
    const home = servers.find((s) => s.address === client2.serverFor(key))!;
    await home.pauseAndWait();
    try {
      const ejected = await waitFor(async () => {
        await attempt(owner2, key);
        return !client2.cluster.isAlive(home.address);
      }, 10_000);
      assert.ok(ejected);
      const refused = await attempt(owner2, key);
      assert.ok(refused instanceof ConnectionError, `got ${String(refused)}`);
      assert.equal(refused.details?.requestSent, false);
      assert.match(refused.message, new RegExp(`${home.address}.*does not fail over`));
      const start = performance.now();
      await assert.rejects(owner2.acquireLock('failover', key, 60_000, 600), LockTimeoutError);
      const waited = performance.now() - start;
      assert.ok(waited >= 580, `acquireLock gave up after ${waited.toFixed(0)} ms`);
    } finally {
      home.resume();
    }
  });
});
