// The Keyv adapter against @keyv/memcache 2.0.2 (bench/keyv/compare.ts, also run by `npm run
// bench`), and where the generation-key traffic lands on three servers.
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
import { benchKeyv, renderKeyvTable } from './keyv/compare.js';

const endpoint = (s: MemcachedProcess) => ({ id: s.address, host: s.host, port: s.port });
const ROUNDS = 5;

async function comparison(): Promise<void> {
  const server = await startMemcached();
  console.log(renderKeyvTable(await benchKeyv(server.host, server.port, ROUNDS, false)));
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
