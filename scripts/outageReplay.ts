// Measures the outage record and its replay (issue 21): the memory one record of N keys holds,
// and how long deleting N keys on a real memcached takes before the server rejoins.
//   node --expose-gc --import tsx scripts/outageReplay.ts [N ...]   (default 1,000 10,000 100,000)
import { encodeKey, keyBytes } from '../src/protocol/KeyEncoder.js';
import { OutageRecord } from '../src/topology/OutageRecord.js';
import { replayOutage } from '../src/topology/OutageReplay.js';
import { Pool } from '../src/transport/Pool.js';
import { startMemcached, stopAllMemcached } from '../test/support/memcached.js';

const sizes = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const server = await startMemcached({ memoryMb: 256 });
const pool = new Pool(
  { id: server.address, host: server.host, port: server.port },
  {
    maxConnections: 1,
    idleTimeoutMs: 0,
    connectTimeoutMs: 2000,
    requestTimeoutMs: 1000,
    maxValueBytes: 2 << 20,
  },
);
await pool.connect();
for (const n of sizes.length > 0 ? sizes : [1000, 10_000, 100_000]) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const record = new OutageRecord(n);
  record.begin(server.address);
  // Keys as an application makes them (prefix + id), counted with the record: once the calls are
  // done, the record is what keeps them. Each is hashed (its bytes cached on it) and recorded, as
  // Topology.routeChange does.
  for (let i = 0; i < n; i++) {
    const encoded = encodeKey(`user:session:${1_000_000 + i}`, 250);
    keyBytes(encoded);
    record.record(server.address, encoded);
  }
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  const work = record.take(server.address)!;
  const started = performance.now();
  await replayOutage(pool, work);
  const ms = performance.now() - started;
  console.log(
    `${n} keys: record ${(bytes / 1e6).toFixed(1)} MB (${Math.round(bytes / n)} B/key), replay ${ms.toFixed(0)} ms`,
  );
}
pool.close();
await stopAllMemcached();
