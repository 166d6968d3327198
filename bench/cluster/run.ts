// The cluster simulation of `npm run bench` (no network): ketama and rendezvous at 10, 100 and
// 1,000 servers over 1,000,000 keys (100,000 with --quick): keys per server (max/mean, min/mean),
// the share of keys that move when one server joins or leaves, and the lookup cost per key.
// Each (distribution, size) is split over child processes, one per core.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Distribution, SliceResult } from './simulate.js';

const SIMULATE = fileURLToPath(new URL('./simulate.ts', import.meta.url));
export const CLUSTER_SIZES = [10, 100, 1000] as const;
export const DISTRIBUTIONS: readonly Distribution[] = ['ketama', 'rendezvous'];

export interface ClusterRow {
  distribution: Distribution;
  servers: number;
  keys: number;
  maxOverMean: number;
  minOverMean: number;
  /** Share of keys moved when one server joins; ideal 1/(N+1). */
  movedOnAdd: number;
  /** Share of keys that moved between servers that were there before (ideal 0). */
  movedOnAddElsewhere: number;
  /** Share moved when one server leaves; ideal 1/N. */
  movedOnRemove: number;
  movedOnRemoveElsewhere: number;
  lookupNsPerKey: number;
  buildMs: number;
}

function runSlice(
  distribution: Distribution,
  servers: number,
  from: number,
  to: number,
): Promise<SliceResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SIMULATE, distribution, String(servers), String(from), String(to)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as SliceResult);
      else reject(new Error(`cluster simulation ${distribution}/${servers} exited with ${code}`));
    });
  });
}

export async function simulateCluster(keys: number, log: (line: string) => void): Promise<ClusterRow[]> {
  const workers = Math.max(1, Math.min(2, availableParallelism()));
  const rows: ClusterRow[] = [];
  for (const distribution of DISTRIBUTIONS) {
    for (const servers of CLUSTER_SIZES) {
      const started = Date.now();
      const step = Math.ceil(keys / workers);
      const slices = await Promise.all(
        Array.from({ length: workers }, (_, w) =>
          runSlice(distribution, servers, w * step, Math.min(keys, (w + 1) * step)),
        ),
      );
      const counts = new Array<number>(servers).fill(0);
      for (const slice of slices) for (const [i, c] of slice.counts.entries()) counts[i]! += c;
      const sum = (pick: (s: SliceResult) => number) => slices.reduce((total, s) => total + pick(s), 0);
      const mean = keys / servers;
      const row: ClusterRow = {
        distribution,
        servers,
        keys,
        maxOverMean: Math.max(...counts) / mean,
        minOverMean: Math.min(...counts) / mean,
        movedOnAdd: sum((s) => s.movedOnAdd) / keys,
        movedOnAddElsewhere: sum((s) => s.movedOnAddElsewhere) / keys,
        movedOnRemove: sum((s) => s.movedOnRemove) / keys,
        movedOnRemoveElsewhere: sum((s) => s.movedOnRemoveElsewhere) / keys,
        lookupNsPerKey: sum((s) => s.lookupNs) / keys,
        buildMs: Math.max(...slices.map((s) => s.buildMs)),
      };
      rows.push(row);
      log(
        `        ${distribution} × ${servers}: max/mean ${row.maxOverMean.toFixed(3)}, moved on add ${pct(row.movedOnAdd)} (ideal ${pct(1 / (servers + 1))}), lookup ${row.lookupNsPerKey.toFixed(0)} ns/key · ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  }
  return rows;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)} %`;
}

export function renderClusterMarkdown(rows: readonly ClusterRow[], header: string): string {
  const lines = [
    '# Cluster simulation',
    '',
    header,
    '',
    'No network: the package\'s own selectors (`ketamaSelector`, libmemcached weighted ketama; `rendezvousSelector`, pymemcache HashClient) over servers `10.0.x.y:11211`, keys `key:0` … `key:<n−1>`. "moved" is the share of all keys whose server changed when server N+1 joins, or when one of the N leaves; "between others" counts keys that moved between servers present before and after (0 is ideal: only the joining or leaving server\'s keys should move).',
    '',
    '| distribution | servers | keys | max / mean | min / mean | moved, one joins (ideal) | of them between others | moved, one leaves (ideal) | of them between others | lookup ns/key | build ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.distribution} | ${r.servers} | ${r.keys.toLocaleString('en-US')} | ${r.maxOverMean.toFixed(3)} | ${r.minOverMean.toFixed(3)} | ${pct(r.movedOnAdd)} (${pct(1 / (r.servers + 1))}) | ${pct(r.movedOnAddElsewhere)} | ${pct(r.movedOnRemove)} (${pct(1 / r.servers)}) | ${pct(r.movedOnRemoveElsewhere)} | ${r.lookupNsPerKey.toFixed(0)} | ${r.buildMs.toFixed(1)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
