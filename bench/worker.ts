// Child process: measures ONE client on ONE scenario and prints `RESULT <json>` on stdout.
// Started by bench/run.ts (bundled by esbuild, run with --expose-gc); never run by hand.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { type CacheDriver, createCacheDriver, createDriver, type Driver } from './drivers.js';
import {
  getBatches,
  metaGetBatches,
  metaSetBatches,
  Opaques,
  QUIET,
  quietGetBatches,
  RawBound,
  setBatches,
} from './raw.js';
import {
  LIMITS,
  type OpKind,
  type PhaseResult,
  type ScenarioSpec,
  type SoakResult,
  type SoakSample,
  scenarioById,
  type Task,
  type WorkerResult,
} from './scenarios.js';

const MB = 1024 * 1024;
const TRACE = process.env.BENCH_TRACE === '1';
const trace = (what: string): void => {
  if (TRACE) process.stderr.write(`${(process.uptime() * 1000).toFixed(0)} ms: ${what}\n`);
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function fullGc(): void {
  gc();
  gc();
}

/** Runs operation `i`; counts its own errors. */
type OpFn = (i: number) => Promise<void>;

interface Counters {
  errors: number;
}

interface Limits {
  /** Seconds after which no new operation starts. */
  soft: number;
  /** Seconds after which the phase is cut off even with operations in flight. */
  hard: number;
}

interface Driven {
  done: number;
  seconds: number;
  cutOff: boolean;
  /** Latencies in µs of the completed operations (when asked). */
  lat: Float64Array | null;
}

/**
 * Runs up to `n` operations with `inflight` outstanding (1 = sequential, latency per op).
 * Stops starting new ones at the soft limit; gives up waiting at the hard limit.
 */
async function drive(
  n: number,
  inflight: number,
  op: OpFn,
  latency: boolean,
  limits: Limits,
): Promise<Driven> {
  let stop = false;
  let done = 0;
  const lat = latency ? new Float64Array(n) : null;
  const softTimer = setTimeout(() => {
    stop = true;
  }, limits.soft * 1000);
  let hardTimer: NodeJS.Timeout | undefined;
  const hard = new Promise<'cut'>((resolve) => {
    hardTimer = setTimeout(() => resolve('cut'), limits.hard * 1000);
  });
  const t0 = performance.now();
  let work: Promise<unknown>;
  if (inflight === 1) {
    work = (async () => {
      for (let i = 0; i < n && !stop; i++) {
        const start = performance.now();
        await op(i);
        if (lat) lat[i] = (performance.now() - start) * 1000;
        done++;
      }
    })();
  } else {
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < n && !stop) {
        await op(next++);
        done++;
      }
    };
    const loops: Array<Promise<void>> = [];
    for (let j = 0; j < inflight; j++) loops.push(loop());
    work = Promise.all(loops);
  }
  const outcome = await Promise.race([work, hard]);
  const seconds = (performance.now() - t0) / 1000;
  clearTimeout(softTimer);
  clearTimeout(hardTimer);
  stop = true;
  return { done, seconds, cutOff: outcome === 'cut', lat: lat ? lat.subarray(0, done) : null };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function toPhase(
  op: OpKind,
  d: Driven,
  opsPerCall: number,
  errors: number,
  rssPeak: number,
  elu: number,
  cpu: NodeJS.CpuUsage | null,
): PhaseResult {
  const ops = d.done * opsPerCall;
  const result: PhaseResult = {
    op,
    ops,
    seconds: d.seconds,
    opsPerSec: ops / d.seconds,
    rssMb: rssPeak / MB,
    elu,
    cpuUsPerOp: cpu ? (cpu.user + cpu.system) / ops : Number.NaN,
    errors,
  };
  if (d.lat) {
    d.lat.sort();
    result.p50 = percentile(d.lat, 50);
    result.p99 = percentile(d.lat, 99);
  }
  if (d.cutOff) result.cutOff = `not all replies within ${LIMITS_NOTE}`;
  return result;
}

let LIMITS_NOTE = '';

/** Set when the parent synchronises phases over IPC (see Task.barrier). */
let BARRIER = false;

/** Tells the parent `what` happened to phase `op` and waits for its go-ahead. */
function barrier(what: 'start' | 'end', op: OpKind): Promise<void> {
  if (!BARRIER) return Promise.resolve();
  return new Promise((resolve) => {
    process.once('message', () => resolve());
    process.send!({ barrier: what, op });
  });
}

/** Measures one phase: wall time, ELU, peak RSS, latency percentiles. */
async function measure(
  op: OpKind,
  opsPerCall: number,
  counters: Counters,
  run: () => Promise<Driven>,
): Promise<PhaseResult> {
  fullGc();
  await barrier('start', op);
  counters.errors = 0;
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, 20);
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const driven = await run();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  clearInterval(sampler);
  await barrier('end', op);
  peak = Math.max(peak, process.memoryUsage.rss());
  return toPhase(op, driven, opsPerCall, counters.errors, peak, elu, cpu);
}

/**
 * The client's part of its keys where its id would not do: the bounds' keys are as long as ours
 * (`ours`, `rawm` and `prom` have four letters), so the server does the same work for them.
 */
const KEY_TAGS: Partial<Record<Task['client'], string>> = { 'raw-meta': 'rawm', 'raw-promise': 'prom' };

function makeKeys(task: Task, spec: ScenarioSpec): string[] {
  const prefix = `b:${task.runTag}:${KEY_TAGS[task.client] ?? task.client}:${spec.id}:${task.process ?? 0}:`;
  return Array.from({ length: spec.keyCount[task.mode] }, (_, i) => prefix + i);
}

function measuredOps(task: Task, spec: ScenarioSpec): readonly OpKind[] {
  return task.only ? spec.ops.filter((op) => task.only!.includes(op)) : spec.ops;
}

/**
 * The common phase plan: write every key (unmeasured), then per op a warm-up and the measured
 * run. A client cut off anywhere ends the plan; the op it was cut off in is reported as such.
 */
async function runPlan(
  task: Task,
  spec: ScenarioSpec,
  prefill: (limits: Limits) => Promise<Driven>,
  phase: (op: OpKind, n: number, limits: Limits, latency: boolean) => Promise<Driven>,
  opsPerCall: (op: OpKind) => number,
  counters: Counters,
): Promise<PhaseResult[]> {
  const limits = LIMITS[task.mode];
  LIMITS_NOTE = `${limits.hard} s`;
  const n = spec.count[task.mode];
  trace('prefill');
  const filled = await prefill({ soft: limits.prefill, hard: limits.prefill * 2 });
  if (filled.cutOff || filled.done < spec.keyCount[task.mode] / opsPerCall('set')) {
    throw new Error(`could not write the ${spec.keyCount[task.mode]} keys within ${limits.prefill} s`);
  }
  const phases: PhaseResult[] = [];
  for (const op of measuredOps(task, spec)) {
    counters.errors = 0;
    trace(`warm ${op}`);
    const warm = await phase(
      op,
      Math.max(10, Math.ceil(n / 5)),
      { soft: limits.warm, hard: limits.hard },
      false,
    );
    if (warm.cutOff) {
      phases.push({
        ...toPhase(op, warm, opsPerCall(op), counters.errors, process.memoryUsage.rss(), Number.NaN, null),
        fromWarmup: true,
      });
      break;
    }
    trace(`measure ${op}`);
    const result = await measure(op, opsPerCall(op), counters, () =>
      phase(op, n, { soft: limits.soft, hard: limits.hard }, spec.latency),
    );
    phases.push(result);
    if (result.cutOff) break;
  }
  return phases;
}

async function runDriver(task: Task, spec: ScenarioSpec, driver: Driver): Promise<PhaseResult[]> {
  const keys = makeKeys(task, spec);
  const K = keys.length;
  const size = spec.valueBytes;
  const value = randomBytes(size);
  const counters: Counters = { errors: 0 };
  const batch = spec.batch ?? 100;
  const fail = (): void => {
    counters.errors++;
  };
  const set: OpFn = (i) => driver.set(keys[i % K]!, value).then(() => {}, fail);
  const get: OpFn = (i) =>
    driver.get(keys[i % K]!).then((r) => {
      if (driver.length(r) !== size) counters.errors++;
    }, fail);
  const mgetKeys: string[][] = [];
  for (let start = 0; start + batch <= K; start += batch) mgetKeys.push(keys.slice(start, start + batch));
  const mget: OpFn = (i) =>
    driver.mget(mgetKeys[i % mgetKeys.length]!).then((hits) => {
      if (hits !== batch) counters.errors++;
    }, fail);
  const fns: Partial<Record<OpKind, OpFn>> = { set, get, mget };
  return runPlan(
    task,
    spec,
    (limits) => drive(K, 100, set, false, limits),
    (op, n, limits, latency) => drive(n, spec.inflight, fns[op]!, latency, limits),
    (op) => (op === 'mget' ? batch : 1),
    counters,
  );
}

/**
 * The raw bounds. `ourFlags` false: the plain bound (`mg <key> v`, `ms <key> <n> T0`, a multi-get
 * of 100 plain `mg`s). True (`raw-meta`): the requests our client sends for the same calls, byte
 * for byte — `mg … v f c O<n>`, `ms … O<n>`, and for the multi-get quiet `mg … q O<n>` ×
 * 100 + `mn`, done at `MN`.
 */
async function runRaw(task: Task, spec: ScenarioSpec, ourFlags: boolean): Promise<PhaseResult[]> {
  const raw = new RawBound();
  await raw.connect(task.host, task.port);
  const keys = makeKeys(task, spec);
  // Sequential: one prebuilt request written, its reply awaited, then the next (a client with no
  // per-request work at all); otherwise batches of 100.
  const size = spec.inflight === 1 && spec.batch === undefined ? 1 : 100;
  const value = randomBytes(spec.valueBytes);
  const opaques = new Opaques();
  const sets = ourFlags
    ? metaSetBatches(keys, size, value, Number.MAX_SAFE_INTEGER, opaques)
    : setBatches(keys, size, value, Number.MAX_SAFE_INTEGER);
  const gets = ourFlags ? metaGetBatches(keys, size, opaques) : getBatches(keys, size);
  const mgets = ourFlags ? quietGetBatches(keys, size, opaques) : gets;
  const counters: Counters = { errors: 0 };
  // One "operation" here is a batch of `size` requests written at once; the next batch goes out
  // when all its replies are in (100 in flight, or 1 for the sequential scenario). For the
  // multi-get scenario a batch is one multi-get of 100 keys.
  const batchOp =
    (list: Buffer[], replies: number, reads: boolean): OpFn =>
    async (b) => {
      const before = raw.hitCount;
      await raw.send(list[b % list.length]!, replies);
      if (reads && raw.hitCount - before !== size) counters.errors++;
    };
  const fns: Partial<Record<OpKind, OpFn>> = {
    set: batchOp(sets, size, false),
    get: batchOp(gets, size, true),
    mget: batchOp(mgets, ourFlags ? QUIET : size, true),
  };
  const phases = await runPlan(
    task,
    spec,
    (limits) => drive(sets.length, 1, fns.set!, false, limits),
    (op, n, limits, latency) =>
      drive(op === 'mget' ? n : Math.max(1, Math.ceil(n / size)), 1, fns[op]!, latency, limits),
    () => size,
    counters,
  );
  raw.close();
  return phases;
}

interface Profile {
  id: number;
  name: string;
  email: string;
  tags: string[];
  active: boolean;
  score: number;
  created: string;
}

function profile(i: number): Profile {
  return {
    id: i,
    name: `user-${i}`,
    email: `user-${i}@example.com`,
    tags: ['bench', 'json', `t${i % 7}`],
    active: i % 2 === 0,
    score: i * 0.5,
    created: '2024-05-01T12:00:00.000Z',
  };
}

async function runCache(task: Task, spec: ScenarioSpec, driver: CacheDriver): Promise<PhaseResult[]> {
  const keys = makeKeys(task, spec);
  const K = keys.length;
  const values = Array.from({ length: K }, (_, i) => profile(i));
  const counters: Counters = { errors: 0 };
  const fail = (): void => {
    counters.errors++;
  };
  const store: OpFn = (i) => driver.store(keys[i % K]!, values[i % K]).then(() => {}, fail);
  const retrieve: OpFn = (i) =>
    driver.retrieve(keys[i % K]!).then((r) => {
      if ((r as Profile | null)?.id !== i % K) counters.errors++;
    }, fail);
  const fns: Partial<Record<OpKind, OpFn>> = { store, retrieve };
  return runPlan(
    task,
    spec,
    (limits) => drive(K, 100, store, false, limits),
    (op, n, limits, latency) => drive(n, spec.inflight, fns[op]!, latency, limits),
    () => 1,
    counters,
  );
}

async function runSoak(task: Task, spec: ScenarioSpec, driver: Driver): Promise<SoakResult> {
  const keys = makeKeys(task, spec);
  const K = keys.length;
  const value = randomBytes(spec.valueBytes);
  const n = spec.count[task.mode];
  const unlimited: Limits = { soft: 3600, hard: 3600 };
  let errors = 0;
  const fail = (): void => {
    errors++;
  };
  const mixed: OpFn = (i) =>
    i % 2 === 0
      ? driver.set(keys[i % K]!, value).then(() => {}, fail)
      : driver.get(keys[i % K]!).then((r) => {
          if (driver.length(r) !== value.length) errors++;
        }, fail);
  // Warm-up: every key written, then 50 k mixed operations.
  await drive(
    Math.max(K, 50_000),
    spec.inflight,
    (i) => driver.set(keys[i % K]!, value).then(() => {}, fail),
    false,
    unlimited,
  );
  const warmUp = await warmUntilNurserySettles(spec, mixed, unlimited);
  const samples: SoakSample[] = [{ ...memorySample(0), warmUpOps: warmUp }];
  const chunk = Math.ceil(n / 10);
  let active = 0;
  for (let done = 0; done < n; done += chunk) {
    const offset = done;
    const driven = await drive(
      Math.min(chunk, n - done),
      spec.inflight,
      (i) => mixed(offset + i),
      false,
      unlimited,
    );
    active += driven.seconds;
    samples.push(memorySample(Math.min(n, done + chunk)));
  }
  if (errors > 0) throw new Error(`soak: ${errors} operations failed or returned wrong values`);
  const base = samples[0]!;
  const middle = samples[Math.floor(samples.length / 2)]!;
  const end = samples[samples.length - 1]!;
  return {
    ops: n,
    seconds: active,
    opsPerSec: n / active,
    baselineRssMb: base.rssMb,
    finalRssMb: end.rssMb,
    rssGrowthMb: end.rssMb - base.rssMb,
    baselineHeapMb: base.heapUsedMb,
    finalHeapMb: end.heapUsedMb,
    heapGrowthMb: end.heapUsedMb - base.heapUsedMb,
    secondHalfRssMb: end.rssMb - middle.rssMb,
    secondHalfHeapMb: end.heapUsedMb - middle.heapUsedMb,
    samples,
  };
}

/**
 * Mixed operations in chunks until V8's young generation stopped growing for two chunks in a row:
 * V8 enlarges it under a high allocation rate, and a baseline taken before that counts the
 * nursery's growth as the client's. Returns the operations run.
 */
async function warmUntilNurserySettles(spec: ScenarioSpec, mixed: OpFn, limits: Limits): Promise<number> {
  let ops = 0;
  let steady = 0;
  let size = memorySample(0).newSpaceMb;
  while (steady < 2 && ops < SOAK_WARM_UP_MAX) {
    const offset = ops;
    await drive(SOAK_WARM_UP_CHUNK, spec.inflight, (i) => mixed(offset + i), false, limits);
    ops += SOAK_WARM_UP_CHUNK;
    const now = memorySample(ops).newSpaceMb;
    steady = now > size ? 0 : steady + 1;
    size = now;
  }
  return ops;
}

const SOAK_WARM_UP_CHUNK = 50_000;
const SOAK_WARM_UP_MAX = 1_000_000;

/** Memory after a forced GC: what is still held, not garbage waiting for the next scavenge. */
function memorySample(ops: number): SoakSample {
  fullGc();
  const usage = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return {
    ops,
    rssMb: usage.rss / MB,
    heapUsedMb: usage.heapUsed / MB,
    heapTotalMb: usage.heapTotal / MB,
    newSpaceMb: (newSpace?.space_size ?? 0) / MB,
    externalMb: usage.external / MB,
  };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as Task;
  const spec = scenarioById(task.scenario);
  const servers = task.servers ?? [{ host: task.host, port: task.port }];
  BARRIER = task.barrier === true && typeof process.send === 'function';
  trace(`start ${task.client}`);
  const result: WorkerResult = { scenario: task.scenario, client: task.client, phases: [], startRssMb: 0 };
  if (task.client === 'raw' || task.client === 'raw-meta') {
    result.startRssMb = process.memoryUsage.rss() / MB;
    result.phases = await runRaw(task, spec, task.client === 'raw-meta');
  } else if (task.client === 'ours-cache' || task.client === 'pip-memcached') {
    const driver = await createCacheDriver(task.client, servers);
    result.startRssMb = process.memoryUsage.rss() / MB;
    result.phases = await runCache(task, spec, driver);
    if (!result.phases.some((p) => p.cutOff)) await driver.close();
  } else {
    const driver = await createDriver(task.client, servers);
    result.startRssMb = process.memoryUsage.rss() / MB;
    if (spec.id === 'soak') result.soak = await runSoak(task, spec, driver);
    else result.phases = await runDriver(task, spec, driver);
    if (!result.phases.some((p) => p.cutOff)) await driver.close();
  }
  trace('done');
  // Exit at once: a client cut off may still be busy with replies nobody waits for.
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
