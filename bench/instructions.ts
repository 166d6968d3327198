// Instructions per call, counted by callgrind: exact and repeatable whatever else the machine
// does, unlike ops/s on a shared 2-core box. For each case the child (this file, bundled) runs
// the same warm-up and then N calls, once with N = n and once with N = 3n, under
// `valgrind --tool=callgrind`; (Ir(3n) − Ir(n)) ÷ 2n is the steady-state cost of one call, with
// startup, connect and JIT warm-up cancelled out. What V8's optimizing compilers still spend in
// the window (functions optimized late, or again after a deopt) is reported apart, not counted.
//
//   node --import tsx bench/instructions.ts                 # every case
//   node --import tsx bench/instructions.ts pget sget       # some of them
//   IR_N=5000 node --import tsx bench/instructions.ts sget  # another n
//   IR_OUT=.build-ir-b …                                    # another build directory (runs side by side)
//   IR_CLIENT=promise-bound … pget sget                     # the promise bound instead of ours
//
// Cases: pget / pset (100 in flight, 100 B), sget / sset (one call at a time, 100 B),
// pset100k / pget100k (100 in flight, 100 KB), mget (getMany of 100 keys, one call at a time,
// 100 B: the count is per getMany, ÷ 100 per key).

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Item } from '../src/index.js';

interface Case {
  op: 'get' | 'set' | 'mget';
  inflight: number;
  size: number;
  /** n of the two counts (n and 3n calls). */
  n: number;
}

export const CASES: Record<string, Case> = {
  pget: { op: 'get', inflight: 100, size: 100, n: 10_000 },
  pset: { op: 'set', inflight: 100, size: 100, n: 10_000 },
  sget: { op: 'get', inflight: 1, size: 100, n: 5_000 },
  sset: { op: 'set', inflight: 1, size: 100, n: 5_000 },
  pset100k: { op: 'set', inflight: 100, size: 100 * 1024, n: 1_000 },
  pget100k: { op: 'get', inflight: 100, size: 100 * 1024, n: 1_000 },
  mget: { op: 'mget', inflight: 1, size: 100, n: 500 },
};

/** Keys a getMany of the `mget` case reads: 100 distinct ones. */
const MGET_KEYS = 100;

const WARM_UP = 10_000;

/** What the child calls, as it is (a wrapper would be counted too): ours, or the promise bound. */
interface Counted {
  get(key: string): Promise<unknown>;
  set(key: string, value: Buffer): Promise<unknown>;
  /** Ours only: the promise bound has no multi-get. */
  getMany?(keys: readonly string[]): Promise<Map<string, Item>>;
  close(): void | Promise<void>;
}

/** Bytes of the value a get resolved, -1 for a miss: an `Item`'s, or the promise bound's `Buffer`. */
const itemLength = (item: unknown): number => (item === null ? -1 : (item as Item).value.length);
const bufferLength = (value: unknown): number => (value === null ? -1 : (value as Buffer).length);

/** The child: warm-up, then `calls` calls of the case, then exit. */
async function child(port: number, name: string, calls: number): Promise<void> {
  const c = CASES[name]!;
  if (process.env.IR_CLIENT === 'promise-bound') {
    // bench/promiseBound.ts, the least a client with a promise per call does: ours can be read
    // against it call for call.
    const { PromiseBound } = await import('./promiseBound.js');
    const bound = new PromiseBound();
    await bound.connect('127.0.0.1', port);
    return runCalls(bound, bufferLength, c, name, calls);
  }
  const { MemcachedClient } = await import('../src/index.js');
  // Valgrind runs ~50× slower: a 100 KB call can take longer than the default second.
  const client = new MemcachedClient({
    servers: [{ id: 'bench', host: '127.0.0.1', port }],
    requestTimeoutMs: 60_000,
  });
  await client.connect();
  return runCalls(client, itemLength, c, name, calls);
}

/** Sets every key, warms up, then makes `calls` calls of the case. */
async function runCalls(
  client: Counted,
  length: (result: unknown) => number,
  c: Case,
  name: string,
  calls: number,
): Promise<void> {
  // Checked once, before any call: the promise bound has no multi-get.
  if (c.op === 'mget' && client.getMany === undefined)
    throw new Error(`${name}: the promise bound has no getMany`);
  const keys = Array.from({ length: Number(process.env.IR_KEYS ?? 1000) }, (_, i) => `ir:${name}:${i}`);
  const value = randomBytes(c.size);
  // Built once, so the measured window holds the client's work only: call i reads window i % 10.
  const windows = Array.from({ length: keys.length / MGET_KEYS }, (_, i) =>
    keys.slice(i * MGET_KEYS, (i + 1) * MGET_KEYS),
  );
  const run = async (n: number, op: Case['op']): Promise<void> => {
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < n) {
        const call = next++;
        const key = keys[call % keys.length]!;
        if (op === 'mget') {
          const window = windows[call % windows.length]!;
          const items = await client.getMany!(window);
          const some = window[call % MGET_KEYS]!;
          if (items.size !== MGET_KEYS || items.get(some)?.value.length !== c.size)
            throw new Error('bad getMany');
        } else if (op === 'get') {
          if (length(await client.get(key)) !== c.size) throw new Error('bad get');
        } else await client.set(key, value);
      }
    };
    await Promise.all(Array.from({ length: c.inflight }, loop));
  };
  await run(keys.length, 'set');
  // A getMany is 100 reads: 1,000 of them warm up as much as 100,000 gets.
  const warm = c.op === 'mget' ? 1_000 : c.size > 10_000 ? Math.min(WARM_UP, 2_000) : WARM_UP;
  // Both counts start the warm-up from a collected heap: otherwise a major GC fell inside one
  // window and not the other depending on what the setting of the keys left (a change to the
  // sets alone moved a get's count by ~1,500). Not right before the window: after a full GC, the
  // inline caches it cleared and the code it deoptimized are rebuilt inside the window.
  (globalThis as { gc?: () => void }).gc?.();
  await run(warm, c.op);
  await run(calls, c.op);
  await client.close();
}

async function collected(
  bundle: string,
  port: number,
  name: string,
  calls: number,
  out: string,
): Promise<{ total: number; compiler: number }> {
  const args = [
    '--tool=callgrind',
    `--callgrind-out-file=${out}`,
    process.execPath,
    // Names JIT code in /tmp/perf-<pid>.map (the pid is written beside the output), for reading
    // the profile by function.
    '--perf-basic-prof-only-functions',
    // Optimize on the main thread when a function gets hot: under valgrind the compiler threads
    // lag far behind, and functions would still run unoptimized (or be compiled) inside the
    // measured window, which is then noise, not the cost of a call.
    '--no-concurrent-recompilation',
    // A young generation of fixed size: V8 otherwise resizes it by its own heuristics, and the
    // two runs then scavenge a different number of times per call (each scavenge also walks
    // V8's startup object cache: ±1,000 instructions per call between runs of one build).
    '--min-semi-space-size=16',
    '--max-semi-space-size=16',
    '--expose-gc',
    bundle,
    'child',
    String(port),
    name,
    String(calls),
  ];
  const proc = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const m = /Collected : (\d+)/.exec(stderr);
  if (code !== 0 || !m) throw new Error(`valgrind ${name} ${calls}: exit ${code}\n${stderr.slice(-2000)}`);
  const pid = /==(\d+)==/.exec(stderr)?.[1] ?? '';
  writeFileSync(`${out}.pid`, pid);
  return { total: Number(m[1]), compiler: compilerInstructions(out) };
}

/**
 * Not the cost of a call, and different from run to run: V8's optimizing compilers (TurboFan,
 * Maglev, their zones: code still optimized after the warm-up lands in one count and not the
 * other), the random hash seed V8 draws at startup (a prime search, `HashSeed` / `sprp`:
 * ±10 million instructions per process), and major GCs (marking, sweeping: one lands in one
 * window and not the other, ~10–20 million instructions each). Reported apart. Scavenges stay in:
 * they follow what a call allocates.
 */
const EXCLUDED =
  /v8::internal::(compiler|maglev|Zone)|v8::internal::.*Zone|HashSeed::InitializeRoots|detail::sprp|ConcurrentMarking|MarkingVisitor|MarkCompact|Sweeper::|IncrementalMarking|MarkingBarrier/;

function compilerInstructions(out: string): number {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', out], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m && EXCLUDED.test(m[2]!)) sum += Number(m[1]!.replace(/,/g, ''));
  }
  return sum;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'child') {
    await child(Number(argv[1]), argv[2]!, Number(argv[3]));
    return;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const outdir = join(here, process.env.IR_OUT ?? '.build-ir');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(here, 'instructions.ts')],
    outfile: join(outdir, 'instructions.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const { startMemcached, stopAllMemcached } = await import('../test/support/memcached.js');
  const server = await startMemcached({ threads: 4, memoryMb: 1024 });
  const names = argv.length > 0 ? argv : Object.keys(CASES);
  try {
    for (const name of names) {
      const c = CASES[name];
      if (!c) throw new Error(`unknown case ${name}`);
      const n = Number(process.env.IR_N ?? c.n);
      const bundle = join(outdir, 'instructions.mjs');
      const a = await collected(bundle, server.port, name, n, join(outdir, `${name}-1.out`));
      const b = await collected(bundle, server.port, name, 3 * n, join(outdir, `${name}-3.out`));
      const perCall = Math.round((b.total - b.compiler - (a.total - a.compiler)) / (2 * n));
      const compiling = Math.round((b.compiler - a.compiler) / (2 * n));
      process.stdout.write(
        `${name}: ${perCall} instructions per call (n = ${n}; compilers, startup hash seed and major GC ${compiling} more, excluded)\n`,
      );
    }
  } finally {
    await stopAllMemcached();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
