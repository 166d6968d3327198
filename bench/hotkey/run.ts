// The hot-key scenario of `npm run bench`: one key read by 50 concurrent readers while its data
// changes every 500 ms and a load takes 50 ms, per strategy (bench/hotkey/worker.ts), rounds
// interleaved; loader calls per change and read latency (p50/p99/max), median over rounds.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HotKeyResult, HotKeyStrategy } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
export const HOT_KEY_STRATEGIES: readonly HotKeyStrategy[] = [
  'swr',
  'lease',
  'aside-memjs',
  'aside-memcached',
  'aside-memcache',
];
const LABELS: Record<HotKeyStrategy, string> = {
  swr: 'ours: getOrStore + invalidate() (stale-while-revalidate)',
  lease: 'ours: getOrStore + remove() (lease on a miss)',
  'aside-memjs': 'memjs, cache-aside by hand (get, load, set; delete on change)',
  'aside-memcached': '`memcached`, cache-aside by hand',
  'aside-memcache': '`memcache`, cache-aside by hand',
};
export const HOT_KEY_SETUP = { readers: 50, changeEveryMs: 500, loaderMs: 50 };

function runOne(strategy: HotKeyStrategy, host: string, port: number, key: string, durationMs: number) {
  const { readers, changeEveryMs, loaderMs } = HOT_KEY_SETUP;
  return new Promise<HotKeyResult>((resolve, reject) => {
    const args = [strategy, host, port, key, readers, durationMs, changeEveryMs, loaderMs].map(String);
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as HotKeyResult);
      else reject(new Error(`hot-key ${strategy} exited with ${code}`));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export interface HotKeyRow {
  strategy: HotKeyStrategy;
  label: string;
  rounds: number;
  readsPerSec: number;
  loadsPerChange: number;
  waitedPerChange: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export async function benchHotKey(
  host: string,
  port: number,
  rounds: number,
  durationMs: number,
  log: (line: string) => void,
): Promise<HotKeyRow[]> {
  const results = new Map<HotKeyStrategy, HotKeyResult[]>();
  for (let round = 0; round < rounds; round++) {
    // The order rotates each round, so no strategy always runs first.
    for (let i = 0; i < HOT_KEY_STRATEGIES.length; i++) {
      const order = HOT_KEY_STRATEGIES[(i + round) % HOT_KEY_STRATEGIES.length]!;
      const result = await runOne(order, host, port, `hotkey:${order}:${round}`, durationMs);
      log(
        `        hot key · ${order} · round ${round + 1}/${rounds}: ${result.loads} loads for ${result.changes} changes, p99 ${result.p99.toFixed(1)} ms`,
      );
      results.set(order, [...(results.get(order) ?? []), result]);
    }
  }
  return HOT_KEY_STRATEGIES.map((strategy) => {
    const runs = results.get(strategy) ?? [];
    return {
      strategy,
      label: LABELS[strategy],
      rounds: runs.length,
      readsPerSec: median(runs.map((r) => r.reads / (durationMs / 1000))),
      loadsPerChange: median(runs.map((r) => r.loads / Math.max(1, r.changes))),
      waitedPerChange: median(runs.map((r) => r.waited / Math.max(1, r.changes))),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      max: median(runs.map((r) => r.max)),
    };
  });
}

export function renderHotKeyMarkdown(rows: readonly HotKeyRow[], header: string): string {
  const { readers, changeEveryMs, loaderMs } = HOT_KEY_SETUP;
  const lines = [
    '# Hot key under invalidation',
    '',
    header,
    '',
    `One key, ${readers} concurrent readers in one process; its data changes every ${changeEveryMs} ms (the writer invalidates or deletes the key) and a load from the "database" takes ${loaderMs} ms. "loads per change" counts loader calls (1.0 is the least possible); "waited per change" counts the reads that took at least 80 % of a load, i.e. waited for one. Median over rounds.`,
    '',
    '| strategy | loads per change | waited per change | reads/s | p50 ms | p99 ms | max ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${r.loadsPerChange.toFixed(2)} | ${r.waitedPerChange.toFixed(1)} | ${Math.round(r.readsPerSec).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
