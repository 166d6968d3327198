// Server health counts evidence about the server, once per connection-level event — never once
// per request that happened to be in flight (0.1 counted 500 failures for one reset connection
// and ejected the server at once).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import type { ClusterRouter } from '../../src/cluster/ClusterRouter.js';
import { ConnectionError, TimeoutError } from '../../src/component/errors.js';
import { closeAll, makeClient, pauseAndWait, waitFor } from '../client/helpers.js';
import { startMemcached, startMemcachedCluster, stopAllMemcached } from '../support/index.js';

/** Counts the failures the client reports to its router, per server id. */
function countFailures(client: MemcachedClient): Map<string, number> {
  const counts = new Map<string, number>();
  // The router is internal (the client exposes a read-only view); this test counts what reaches it.
  const router = (client as unknown as { topology: { router: ClusterRouter } }).topology.router;
  const report = router.reportFailure.bind(router);
  router.reportFailure = (id: string) => {
    counts.set(id, (counts.get(id) ?? 0) + 1);
    return report(id);
  };
  return counts;
}

after(async () => {
  closeAll();
  await stopAllMemcached();
});

describe('failures are counted per connection event', () => {
  test('500 requests in flight on a connection that is reset: one failure, not 500', async () => {
    const [victim, other] = await startMemcachedCluster(2);
    const client = makeClient([victim!, other!], { failures: 5, retries: 0, poolSize: 1 });
    const failures = countFailures(client);
    await client.connect();
    const keys = Array.from({ length: 5000 }, (_, i) => `evidence:${i}`).filter(
      (k) => client.serverFor(k) === victim!.address,
    );
    const inflight = keys.slice(0, 500).map((k) =>
      client.get(k).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    await victim!.kill();
    const errors = await Promise.all(inflight);
    assert.ok(errors.filter((e) => e instanceof ConnectionError).length > 0, 'the reset reached the callers');
    assert.equal(failures.get(victim!.address), 1);
    assert.equal(client.cluster.isAlive(victim!.address), true, 'one event does not eject (failures 5)');
  });

  test('a stopped server with 500 requests in flight: every caller times out, the server gets one failure', async () => {
    const server = await startMemcached();
    const client = makeClient([server], { failures: 5, retries: 0, requestTimeoutMs: 300 });
    const failures = countFailures(client);
    await client.connect();
    await pauseAndWait(server);
    try {
      const errors = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          client.get(`stopped:${i}`).then(
            () => null,
            (e: unknown) => e,
          ),
        ),
      );
      assert.ok(errors.every((e) => e instanceof TimeoutError));
      assert.ok(await waitFor(() => (failures.get(server.address) ?? 0) >= 1, 500));
      assert.equal(failures.get(server.address), 1);
    } finally {
      server.resume();
    }
  });
});
