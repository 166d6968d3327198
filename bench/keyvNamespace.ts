// The Keyv adapter's cost per namespaced operation (issue 23 §3): µs per sequential get, ms for
// 2,000 parallel gets on one server, and where the generation-key traffic lands on three servers.
// `node --import tsx bench/keyvNamespace.ts` (starts its own memcached processes).
import Keyv from 'keyv';
import { KeyvMemcachedStore } from '../src/adapters/KeyvMemcachedStore.js';
import { MemcachedClient } from '../src/client/MemcachedClient.js';
import {
  type MemcachedProcess,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from '../test/support/index.js';

const endpoint = (s: MemcachedProcess) => ({ id: s.address, host: s.host, port: s.port });
const ROUNDS = 5;

async function sequentialAndParallel(): Promise<void> {
  const server = await startMemcached();
  const client = new MemcachedClient({ servers: [endpoint(server)] });
  const keyv = new Keyv({ store: new KeyvMemcachedStore({ client }), namespace: 'bench' });
  await keyv.set('k', 'v'.repeat(100));
  for (let i = 0; i < 500; i++) await keyv.get('k'); // warm-up
  const sequential: number[] = [];
  const parallel: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const n = 5000;
    let t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await keyv.get('k');
    sequential.push(Number(process.hrtime.bigint() - t) / 1000 / n);
    t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 2000 }, () => keyv.get('k')));
    parallel.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `sequential get: ${median(sequential).toFixed(1)} µs (median of ${ROUNDS}: ${sequential.map((x) => x.toFixed(0)).join(' ')})`,
  );
  console.log(
    `2,000 parallel gets: ${median(parallel).toFixed(1)} ms (${parallel.map((x) => x.toFixed(0)).join(' ')})`,
  );
  client.close();
}

async function hotKey(): Promise<void> {
  const servers = await startMemcachedCluster(3);
  const client = new MemcachedClient({ servers: servers.map(endpoint) });
  const keyv = new Keyv({ store: new KeyvMemcachedStore({ client }), namespace: 'hot' });
  const counters = async () => {
    const stats = await client.stats();
    return [...stats].map(([id, s]) => ({
      id,
      incr: Number(s.get('incr_hits') ?? 0) + Number(s.get('incr_misses') ?? 0),
      gets: Number(s.get('cmd_get') ?? 0),
    }));
  };
  const before = await counters();
  for (let i = 0; i < 1000; i++) await keyv.set(`k${i}`, 'v');
  for (let i = 0; i < 2000; i++) await keyv.get(`k${i % 1000}`);
  const after = await counters();
  console.log('3 servers, 1,000 sets + 2,000 gets: per server (generation incrs / mg):');
  for (let i = 0; i < after.length; i++)
    console.log(
      `  ${after[i]!.id}: ${after[i]!.incr - before[i]!.incr} / ${after[i]!.gets - before[i]!.gets}`,
    );
  client.close();
}

await sequentialAndParallel();
await hotKey();
await stopAllMemcached();
