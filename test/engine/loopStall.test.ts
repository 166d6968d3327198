// Defect 1 of "Engine 2": a synchronous block of our own event loop is not a server failure.
// Node runs timers before it reads sockets, so after a stall every deadline looks passed although
// the replies sit unread in the socket. Those replies must be delivered, and no server ejected.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { closeAll, makeClient } from '../client/helpers.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';

/** Keeps the thread busy for `ms` (a large JSON.parse, sync crypto, a long GC pause). */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('an event-loop stall with three healthy servers', () => {
  let servers: MemcachedProcess[];
  let client: MemcachedClient;
  const ejections: string[] = [];

  before(async () => {
    servers = await startMemcachedCluster(3);
    client = makeClient(servers, { requestTimeoutMs: 1000, failures: 5, retryMs: 30_000, retries: 0 });
    client.cluster.onChange((change) => {
      if (change.type === 'eject') ejections.push(change.id);
    });
    await client.connect();
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`stall:${i}`, `v${i}`)));
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('a 1.5 s block after the requests were written: every in-flight op succeeds, nothing is ejected', async () => {
    const reads = Array.from({ length: 300 }, (_, i) => client.get(`stall:${i}`));
    const writes = Array.from({ length: 300 }, (_, i) => client.set(`stall:w${i}`, `w${i}`));
    await nextLoopTurn(); // the coalesced write went out on the tick after the calls
    blockLoop(1500);
    const settled = await Promise.allSettled([...reads, ...writes]);
    const failed = settled.filter((s) => s.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `failed: ${failed.length}, first: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)}`,
    );
    for (let i = 0; i < 300; i++) {
      const item = (settled[i] as PromiseFulfilledResult<{ value: Buffer } | null>).value;
      assert.equal(item?.value.toString(), `v${i}`);
    }
    assert.deepEqual(ejections, []);
    for (const server of servers) assert.equal(client.cluster.isAlive(server.address), true);
  });

  test('repeated stalls under a steady load: no timeouts, no ejections, every value right', async () => {
    let running = true;
    let completed = 0;
    const errors: unknown[] = [];
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const key = `stall:${(w * 7 + i) % 300}`;
        try {
          const item = await client.get(key);
          assert.equal(item?.value.toString(), `v${key.slice(6)}`);
          completed++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const workers = Array.from({ length: 60 }, (_, w) => worker(w));
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      blockLoop(1200);
    }
    running = false;
    await Promise.all(workers);
    assert.equal(errors.length, 0, `errors: ${errors.length}, first: ${String(errors[0])}`);
    assert.ok(completed > 1000, `completed ${completed}`);
    assert.deepEqual(ejections, []);
  });
});
