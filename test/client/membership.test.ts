// Issue 12 (first slice): MemcachedClient.setServers under load, on real memcached. Every
// server process stays up; removed ones only leave the list.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import type { TopologyChange } from '../../src/client/diagnostics.js';
import { ConfigError, ConnectionError } from '../../src/index.js';
import {
  type MemcachedProcess,
  quietConnections,
  settleConnections,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, endpointOf, makeClient, pauseAndWait, verifiedLoad, waitFor } from './helpers.js';

describe('setServers: membership changes under load', () => {
  let servers: MemcachedProcess[];
  before(async () => {
    servers = await startMemcachedCluster(4);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  it('add, remove, replace all under 20 workers: no failed call, no wrong value, removed servers drained and closed', async () => {
    const [a, b, c, d] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const baseline = new Map<MemcachedProcess, number>();
    for (const server of servers) baseline.set(server, await quietConnections(server.target));
    // No retries: a request lost or refused in a change would fail its call, not be hidden by a retry.
    const client = makeClient([a, b], { requestTimeoutMs: 2000, retries: 0 });
    await client.connect();
    const heard: TopologyChange[] = [];
    const published: unknown[] = [];
    const onPublish = (message: unknown): void => {
      published.push(message);
    };
    subscribe('memcached-cache:topology', onPublish);
    client.onTopologyChange((change) => heard.push(change));

    const load = verifiedLoad(client, 'member');
    // The load runs on each server list for a while (the scenario, not a wait for an event).
    const pause = () => new Promise((resolve) => setTimeout(resolve, 150));

    await pause();
    const added = await client.setServers([endpointOf(a), endpointOf(b), endpointOf(c)]);
    assert.deepEqual(added && [added.added, added.removed], [[c.address], []]);
    await pause();
    const removed = await client.setServers([endpointOf(a), endpointOf(c)]);
    assert.deepEqual(removed && [removed.added, removed.removed], [[], [b.address]]);
    assert.equal(await settleConnections(b.target, baseline.get(b)!), baseline.get(b), 'B: no socket left');
    await pause();
    const replaced = await client.setServers([endpointOf(d)]);
    assert.deepEqual(replaced && [replaced.added, [...replaced.removed].sort()], [
      [d.address],
      [a.address, c.address].sort(),
    ]);
    assert.equal(await client.setServers([endpointOf(d)]), null, 'the same list changes nothing');
    // An invalid list changes nothing and is a ConfigError (Topology.setServers). Caught here, so
    // that a wrong error cannot leave the load running and the test process alive.
    const empty = await client.setServers([]).catch((error: unknown) => error);
    await pause();
    const { calls, misses, failures, wrong } = await load.stop();
    assert.ok(empty instanceof ConfigError, `setServers([]): ${String(empty)}`);
    unsubscribe('memcached-cache:topology', onPublish);

    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed calls`);
    assert.deepEqual(wrong, []);
    assert.ok(calls > 2000, `only ${calls} calls ran`);
    assert.ok(misses < calls / 20, `${misses} misses of ${calls} calls`);
    for (const server of [a, b, c]) {
      assert.equal(
        await settleConnections(server.target, baseline.get(server)!),
        baseline.get(server),
        `${server.address} closed`,
      );
    }
    assert.deepEqual(
      heard.map((h) => [h.version, h.source]),
      [
        [1, 'setServers'],
        [2, 'setServers'],
        [3, 'setServers'],
      ],
    );
    assert.deepEqual(published, heard, 'the diagnostics channel hears the same changes');
  });

  it("requests waiting for a removed server's connection go to their key's new owner, no retry spent", async () => {
    const [a, b, c] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const client = makeClient([a, b], { retries: 0 });
    await client.connect();
    // C joins and leaves in one tick: its connection is still opening, so the reads routed to
    // it wait in its pool, never written.
    const joining = client.setServers([endpointOf(a), endpointOf(b), endpointOf(c)]);
    const cKeys = Array.from({ length: 2000 }, (_, i) => `moved:${i}`).filter(
      (k) => client.serverFor(k) === c.address,
    );
    assert.ok(cKeys.length > 100);
    const pending = cKeys.map((k) => client.get(k));
    const removal = client.setServers([endpointOf(a), endpointOf(b)]); // same tick: nothing of it written yet
    const results = await Promise.allSettled(pending);
    await Promise.all([joining, removal]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.deepEqual(failed.map((f) => String(f.reason)).slice(0, 3), []);
    assert.ok(cKeys.every((k) => client.serverFor(k) !== c.address));
  });

  it('a stats call aimed at a server that leaves before it is written fails naming it, nothing sent', async () => {
    const [a, b, c] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const client = makeClient([a, b], { retries: 0 });
    await client.connect();
    const joining = client.setServers([endpointOf(a), endpointOf(b), endpointOf(c)]);
    const stats = client.stats(); // C's part waits for C's connection
    const leaving = client.setServers([endpointOf(a), endpointOf(b)]);
    await assert.rejects(stats, (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assert.equal(error.message, `Server ${c.address} is no longer in the server list`);
      assert.deepEqual([error.server, error.details], [c.address, { requestSent: false }]);
      return true;
    });
    await Promise.all([joining, leaving]);
    assert.deepEqual([...(await client.stats()).keys()], [a.address, b.address]);
  });

  it('an invalid list changes nothing: ConfigError naming the entry, no call fails, no probe of a removed server throws', async () => {
    const [a, b, c] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const client = makeClient([a, b, c], { retries: 0, failures: 1, retryMs: 200, requestTimeoutMs: 500 });
    await client.connect();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      // C is ejected, so a probe timer of it is due in `retry` ms.
      await pauseAndWait(c);
      const onC = Array.from({ length: 100 }, (_, i) => `atomic:c:${i}`).find(
        (k) => client.serverFor(k) === c.address,
      )!;
      await assert.rejects(client.get(onC), () => true); // the stopped server's request fails: evidence
      assert.ok(await waitFor(() => !client.cluster.isAlive(c.address), 3000), 'C ejected');
      const before = client.servers.map((e) => e.id);
      const sets = Array.from({ length: 300 }, (_, i) => `atomic:${i}`)
        .filter((k) => client.serverFor(k) !== c.address)
        .map((k) => client.set(k, k));
      // Same tick as the sets: a bad weight in entry 1, and C left out.
      await assert.rejects(
        client.setServers([endpointOf(a), { ...endpointOf(b), weight: -1 }]),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, /entry 1 \(.*\): weight must be/);
          return true;
        },
      );
      const failed = (await Promise.allSettled(sets)).filter((r) => r.status === 'rejected');
      assert.equal(failed.length, 0, `${failed.length} of ${sets.length} sets failed`);
      assert.deepEqual(
        client.servers.map((e) => e.id),
        before,
        'the list is the one before',
      );
      // A valid list that removes the ejected C: its probe, due later, must not throw.
      await client.setServers([endpointOf(a), endpointOf(b)]);
      await new Promise((resolve) => setTimeout(resolve, 400)); // past C's retry time (200 ms): the probe's moment
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
      c.resume();
    }
  });

  it('a server joining 3 others takes about a quarter of the keys (ketama), and only from them', async () => {
    const [a, b, c, d] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const client = makeClient([a, b, c]);
    const keys = Array.from({ length: 20_000 }, (_, i) => `share:${i}`);
    const before = keys.map((k) => client.serverFor(k));
    await client.setServers([endpointOf(a), endpointOf(b), endpointOf(c), endpointOf(d)]);
    const afterwards = keys.map((k) => client.serverFor(k));
    const moved = keys.map((_, i) => i).filter((i) => before[i] !== afterwards[i]);
    const share = moved.length / keys.length;
    assert.ok(share >= 0.25 * 0.8 && share <= 0.25 * 1.2, `moved ${share}`);
    assert.ok(
      moved.every((i) => afterwards[i] === d.address),
      'every moved key went to the new server',
    );
  });
});
