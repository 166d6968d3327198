// A slow server is judged (issue 21, item 7). memcached answers every request at once, but a
// proxy passes its replies on one byte every 100 ms: on c3f6886 every call timed out, the server
// was never ejected (a trickle of bytes reset the "stuck" clock forever) and answered-but-unread
// requests piled up on its connections. Now a written request unanswered 2 × request_timeout
// after it was written (our loop responsive) is evidence against the server, and what may wait
// on one connection is bounded.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { closeAll, makeClient, within } from '../client/helpers.js';
import {
  type MemcachedProcess,
  rawCommand,
  startMemcachedCluster,
  stopAllMemcached,
  TrickleProxy,
} from '../support/index.js';

const proxies: TrickleProxy[] = [];
after(async () => {
  closeAll();
  await Promise.all(proxies.map((p) => p.close()));
  await stopAllMemcached();
});

/** Requests in the queues of one server's connections, answered or abandoned (test-only peek). */
function queued(client: MemcachedClient, id: string): number {
  const pools = (client as unknown as { topology: { poolFor(id: string): { inflight: number } | undefined } })
    .topology;
  return pools.poolFor(id)?.inflight ?? 0;
}

interface Run {
  ejectedAfterMs: number;
  calls: number;
  timedOut: number;
  mostQueued: number;
}

/**
 * 20 callers read keys of the slow server until it is ejected (or `guardMs` passes: then the
 * test fails), recording the deepest queue its connections held.
 */
async function loadUntilEjected(client: MemcachedClient, slowId: string, guardMs: number): Promise<Run> {
  const keys = Array.from({ length: 2000 }, (_, i) => `slow:${i}`).filter(
    (k) => client.serverFor(k) === slowId,
  );
  const run: Run = { ejectedAfterMs: -1, calls: 0, timedOut: 0, mostQueued: 0 };
  const started = performance.now();
  let ejected = false;
  const ejection = new Promise<void>((resolve) => {
    client.cluster.onChange((change) => {
      if (change.type === 'eject' && change.id === slowId) {
        ejected = true;
        run.ejectedAfterMs = performance.now() - started;
        resolve();
      }
    });
  });
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !ejected; i++) {
      run.calls++;
      await client.get(keys[(w * 97 + i) % keys.length]!).catch((e: { code?: string }) => {
        if (e.code === 'TIMEOUT') run.timedOut++;
      });
      run.mostQueued = Math.max(run.mostQueued, queued(client, slowId));
    }
  };
  const workers = Array.from({ length: 20 }, (_, w) => worker(w));
  try {
    await within(ejection, guardMs, `the slow server ${slowId} was not ejected`);
  } finally {
    ejected = true;
    await Promise.all(workers);
  }
  return run;
}

describe('a server whose replies trickle in (one byte every 100 ms)', () => {
  let servers: MemcachedProcess[];

  test('is judged failing and ejected; its connections never pile up unread requests', async () => {
    servers = await startMemcachedCluster(2);
    const proxy = await TrickleProxy.start(servers[0]!, { intervalMs: 100 });
    proxies.push(proxy);
    const healthy = { id: servers[1]!.address, host: servers[1]!.host, port: servers[1]!.port };
    const slow = { id: proxy.address, host: proxy.host, port: proxy.port };
    const client = makeClient([slow, healthy], { requestTimeoutMs: 500, failures: 5 });
    await client.connect();
    const run = await loadUntilEjected(client, slow.id, 15_000);
    console.log(`trickle from the start: ${JSON.stringify(run)}`);
    assert.ok(run.timedOut > 0, 'the scenario: callers time out');
    // Each connection is judged within 2 × request_timeout of its oldest write: 5 events.
    assert.ok(run.ejectedAfterMs < 10_000, `ejected after ${run.ejectedAfterMs.toFixed(0)} ms`);
    assert.ok(run.mostQueued <= 100, `${run.mostQueued} requests waited on the slow server's connections`);
    // Its keys now go to the healthy server, answered at once.
    await client.set('slow:after', 'v');
    assert.equal((await client.get('slow:after'))?.value.toString(), 'v');
  });

  test('also when its handshakes are quick and only its replies are slow (a handshake does not clear the evidence)', async () => {
    const version = (await rawCommand(servers[0]!.target, 'version\r\n')).length;
    const proxy = await TrickleProxy.start(servers[0]!, {
      intervalMs: 100,
      fastBytes: version + 'MN\r\n'.length,
    });
    proxies.push(proxy);
    const healthy = { id: servers[1]!.address, host: servers[1]!.host, port: servers[1]!.port };
    const slow = { id: proxy.address, host: proxy.host, port: proxy.port };
    const client = makeClient([slow, healthy], { requestTimeoutMs: 500, failures: 5 });
    await client.connect();
    const run = await loadUntilEjected(client, slow.id, 15_000);
    console.log(`quick handshake, slow replies: ${JSON.stringify(run)}`);
    assert.ok(run.timedOut > 0, 'the scenario: callers time out');
    assert.ok(run.ejectedAfterMs < 10_000, `ejected after ${run.ejectedAfterMs.toFixed(0)} ms`);
    assert.ok(run.mostQueued <= 100, `${run.mostQueued} requests waited on the slow server's connections`);
  });
});
