// The Keyv comparison of `npm run bench` (issue 23 §3): our Keyv store against @keyv/memcache
// 2.0.2 through the same Keyv, on one memcached: µs per sequential get and set, ms for 2,000
// parallel gets and sets. Rounds alternate the stores (after one warm-up round each); a round's
// ratio is the peer's time ÷ ours, so > 1 means ours is faster; the goal is ≥ 1.2× in all four.
import KeyvMemcache from '@keyv/memcache';
import Keyv from 'keyv';
import { KeyvMemcachedStore } from '../../src/adapters/KeyvMemcachedStore.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';

export const KEYV_GOAL = 1.2;
const PARALLEL = 2000;
const VALUE = 'v'.repeat(100);

export const KEYV_OPERATIONS = [
  { id: 'seqGet', label: 'sequential get', unit: 'µs/op' },
  { id: 'seqSet', label: 'sequential set', unit: 'µs/op' },
  { id: 'parGet', label: `${PARALLEL.toLocaleString('en')} parallel gets`, unit: 'ms' },
  { id: 'parSet', label: `${PARALLEL.toLocaleString('en')} parallel sets`, unit: 'ms' },
] as const;
type OperationId = (typeof KEYV_OPERATIONS)[number]['id'];
type Times = Record<OperationId, number>;

export interface KeyvRow {
  operation: string;
  unit: string;
  /** Median time of ours and of the peer. */
  ours: number;
  peer: number;
  /** Per-round peer ÷ ours: median and range. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function round(keyv: Keyv, sequential: number): Promise<Times> {
  const seqSet = await elapsedMs(async () => {
    for (let i = 0; i < sequential; i++) await keyv.set(`k${i % 100}`, VALUE);
  });
  const seqGet = await elapsedMs(async () => {
    for (let i = 0; i < sequential; i++) await keyv.get(`k${i % 100}`);
  });
  const parSet = await elapsedMs(() =>
    Promise.all(Array.from({ length: PARALLEL }, (_, i) => keyv.set(`k${i % 100}`, VALUE))),
  );
  const parGet = await elapsedMs(() =>
    Promise.all(Array.from({ length: PARALLEL }, (_, i) => keyv.get(`k${i % 100}`))),
  );
  return { seqGet: (seqGet * 1000) / sequential, seqSet: (seqSet * 1000) / sequential, parGet, parSet };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Runs the comparison against the memcached at host:port; `rounds` measured rounds per store. */
export async function benchKeyv(
  host: string,
  port: number,
  rounds: number,
  quick: boolean,
): Promise<KeyvRow[]> {
  const sequential = quick ? 500 : 3000;
  const client = new MemcachedClient({ servers: [{ id: `${host}:${port}`, host, port }] });
  const peer = new KeyvMemcache(`${host}:${port}`);
  const ours = new Keyv({ store: new KeyvMemcachedStore({ client }), namespace: 'ours' });
  const theirs = new Keyv({ store: peer, namespace: 'peer' });
  try {
    await round(ours, sequential);
    await round(theirs, sequential);
    const oursTimes: Times[] = [];
    const peerTimes: Times[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always runs on the other's garbage.
      if (r % 2 === 0) {
        oursTimes.push(await round(ours, sequential));
        peerTimes.push(await round(theirs, sequential));
      } else {
        peerTimes.push(await round(theirs, sequential));
        oursTimes.push(await round(ours, sequential));
      }
    }
    return KEYV_OPERATIONS.map(({ id, label, unit }) => {
      const ratios = oursTimes.map((t, r) => peerTimes[r]![id] / t[id]);
      return {
        operation: label,
        unit,
        ours: median(oursTimes.map((t) => t[id])),
        peer: median(peerTimes.map((t) => t[id])),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
      };
    });
  } finally {
    peer.client.close();
    client.close();
  }
}

/** The table for bench/results/keyv.md and the README's "Keyv and cache-manager". */
export function renderKeyvTable(rows: readonly KeyvRow[]): string {
  const lines = [
    '| operation | ours | @keyv/memcache 2.0.2 | ours ÷ peer (speed), range over rounds | goal |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const met = row.ratio >= KEYV_GOAL ? 'met' : 'not met';
    lines.push(
      `| ${row.operation} | ${row.ours.toFixed(1)} ${row.unit} | ${row.peer.toFixed(1)} ${row.unit} | ${row.ratio.toFixed(2)}× (${row.ratioMin.toFixed(2)}–${row.ratioMax.toFixed(2)}) | ≥ ${KEYV_GOAL}×: ${met} |`,
    );
  }
  return lines.join('\n');
}
