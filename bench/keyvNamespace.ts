// The Keyv adapter's cost per namespaced operation (issue 23 §3), against @keyv/memcache 2.0.2:
// µs per sequential get and set, ms for 2,000 parallel gets and sets on one server, and where
// the generation-key traffic lands on three servers. Rounds alternate the stores, median shown.
// `node --import tsx bench/keyvNamespace.ts` (starts its own memcached processes).
import KeyvMemcache from '@keyv/memcache';
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
const SEQUENTIAL = 3000;
const PARALLEL = 2000;
const VALUE = 'v'.repeat(100);

interface Figures {
  getUs: number[];
  setUs: number[];
  parallelGetMs: number[];
  parallelSetMs: number[];
}

async function round(keyv: Keyv, figures: Figures): Promise<void> {
  const elapsed = async (work: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - t);
  };
  figures.setUs.push(
    (await elapsed(async () => {
      for (let i = 0; i < SEQUENTIAL; i++) await keyv.set(`k${i % 100}`, VALUE);
    })) /
      1000 /
      SEQUENTIAL,
  );
  figures.getUs.push(
    (await elapsed(async () => {
      for (let i = 0; i < SEQUENTIAL; i++) await keyv.get(`k${i % 100}`);
    })) /
      1000 /
      SEQUENTIAL,
  );
  figures.parallelSetMs.push(
    (await elapsed(() =>
      Promise.all(Array.from({ length: PARALLEL }, (_, i) => keyv.set(`k${i % 100}`, VALUE))),
    )) / 1e6,
  );
  figures.parallelGetMs.push(
    (await elapsed(() => Promise.all(Array.from({ length: PARALLEL }, (_, i) => keyv.get(`k${i % 100}`))))) /
      1e6,
  );
}

async function comparison(): Promise<void> {
  const server = await startMemcached();
  const client = new MemcachedClient({ servers: [endpoint(server)] });
  const peer = new KeyvMemcache(`127.0.0.1:${server.port}`);
  const stores: Array<[string, Keyv]> = [
    ['ours', new Keyv({ store: new KeyvMemcachedStore({ client }), namespace: 'ours' })],
    [
      'ours, generationRefreshMs 0',
      new Keyv({ store: new KeyvMemcachedStore({ client, generationRefreshMs: 0 }), namespace: 'strict' }),
    ],
    ['@keyv/memcache 2.0.2', new Keyv({ store: peer, namespace: 'peer' })],
  ];
  const figures = new Map(
    stores.map(([name]) => [name, { getUs: [], setUs: [], parallelGetMs: [], parallelSetMs: [] } as Figures]),
  );
  for (const [, keyv] of stores)
    await round(keyv, { getUs: [], setUs: [], parallelGetMs: [], parallelSetMs: [] }); // warm-up
  for (let r = 0; r < ROUNDS; r++) for (const [name, keyv] of stores) await round(keyv, figures.get(name)!);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1);
  console.log(
    `| store | sequential get µs | sequential set µs | ${PARALLEL} parallel gets ms | ${PARALLEL} parallel sets ms |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, f] of figures)
    console.log(
      `| ${name} | ${median(f.getUs)} | ${median(f.setUs)} | ${median(f.parallelGetMs)} | ${median(f.parallelSetMs)} |`,
    );
  peer.client.close();
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
  await keyv.set('first', 'v'); // creates the generation (an autovivifying `ma`, not counted as incr)
  const before = await counters();
  for (let i = 0; i < 1000; i++) await keyv.set(`k${i}`, 'v');
  for (let i = 0; i < 2000; i++) await keyv.get(`k${i % 1000}`);
  const after = await counters();
  console.log('\n3 servers, 1,000 sets + 2,000 gets: per server, generation reads (incr) / gets:');
  for (let i = 0; i < after.length; i++)
    console.log(
      `  ${after[i]!.id}: ${after[i]!.incr - before[i]!.incr} / ${after[i]!.gets - before[i]!.gets}`,
    );
  client.close();
}

await comparison();
await hotKey();
await stopAllMemcached();
