// `npm run bench [-- --quick] [--rounds N] [--only seq,p100-100b,cluster,hotkey,keyv] [--no-soak] [--no-memcslap] [--no-cluster] [--no-hotkey] [--no-keyv] [--before REV] [--clients ours,ours-rev]`
// `npm run bench -- --profile p100-100b[:get]`  CPU-profiles our client on one scenario.
//
// Starts its own memcached, bundles bench/worker.ts with esbuild (so children start in ~50 ms,
// without a TypeScript loader), then runs every client in its own child process per scenario,
// interleaved: round → scenario → clients (order rotated each round). Writes
// bench/results/latest.{md,svg,json}; the cluster simulation (bench/cluster, no network) writes
// bench/results/cluster.{md,json}.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { memcachedBinary, startMemcached, stopAllMemcached } from '../test/support/index.js';
import { type ChildOutcome, mergeProcesses, runChildren } from './children.js';
import { CLUSTER_SIZES, renderClusterMarkdown, simulateCluster } from './cluster/run.js';
import { benchHotKey, HOT_KEY_STRATEGIES, renderHotKeyMarkdown } from './hotkey/run.js';
import { benchKeyv, renderKeyvTable } from './keyv/compare.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { updateReadme } from './readme.js';
import {
  buildReport,
  fmt,
  type MemcslapRun,
  type Meta,
  type RawRecord,
  renderMarkdown,
  renderSvg,
  renderTargets,
} from './report.js';
import {
  CLIENT_LABELS,
  type ClientId,
  clientsOf,
  LIMITS,
  type Mode,
  type OpKind,
  SCENARIOS,
  type ScenarioId,
  type ScenarioSpec,
  SOAK,
  type SoakResult,
  scenarioById,
  type Task,
  TRACING_BEFORE_REV,
} from './scenarios.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const BUILD_DIR = join(HERE, '.build');
const RESULTS_DIR = join(HERE, 'results');
const THREADS = 4;
const MEMORY_MB = 1024;

interface Args {
  mode: Mode;
  rounds: number;
  only: ScenarioId[] | null;
  soak: boolean;
  memcslap: boolean;
  /** Run the cluster simulation (no network). */
  cluster: boolean;
  /** Run the hot-key scenario (bench/hotkey). */
  hotkey: boolean;
  /** Run the Keyv comparison (bench/keyv). */
  keyv: boolean;
  profile: { scenario: ScenarioId; op: OpKind | null } | null;
  /** Also run our client built from this commit, beside the current one (`ours-rev`). */
  before: string | null;
  /** Run only these clients (e.g. `ours,ours-rev` for a before/after run). */
  clients: ClientId[] | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    mode: 'full',
    rounds: 3,
    only: null,
    soak: true,
    memcslap: true,
    cluster: true,
    hotkey: true,
    keyv: true,
    profile: null,
    before: null,
    clients: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.mode = 'quick';
    else if (a === '--rounds') args.rounds = Math.max(1, Number.parseInt(value(), 10));
    else if (a === '--only') args.only = value().split(',') as ScenarioId[];
    else if (a === '--no-soak') args.soak = false;
    else if (a === '--no-memcslap') args.memcslap = false;
    else if (a === '--no-cluster') args.cluster = false;
    else if (a === '--no-hotkey') args.hotkey = false;
    else if (a === '--no-keyv') args.keyv = false;
    else if (a === '--before') args.before = value();
    else if (a === '--clients') args.clients = value().split(',') as ClientId[];
    else if (a === '--profile') {
      const [scenario, op] = value().split(':');
      args.profile = { scenario: scenario as ScenarioId, op: (op as OpKind | undefined) ?? null };
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        `${readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n')
          .slice(0, 2)
          .join('\n')}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.only) {
    args.cluster &&= args.only.includes('cluster' as ScenarioId);
    args.hotkey &&= args.only.includes('hotkey' as ScenarioId);
    args.keyv &&= args.only.includes('keyv' as ScenarioId);
    const separate = new Set(['cluster', 'hotkey', 'keyv']);
    args.only = args.only.filter((id) => !separate.has(id));
    for (const id of args.only) scenarioById(id);
  }
  return args;
}

/** Bundles `benchDir`/worker.ts into `outdir`: drivers become separate chunks, so a child loads only its client's code. */
async function bundle(benchDir: string, outdir: string, sourcemap: boolean): Promise<string> {
  await build({
    entryPoints: [join(benchDir, 'worker.ts')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap,
    logLevel: 'warning',
  });
  return join(outdir, 'worker.js');
}

async function bundleWorker(): Promise<string> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  return bundle(HERE, BUILD_DIR, true);
}

/**
 * The worker bundled from `rev` (a detached git worktree under bench/.baseline, its own bundle
 * inside), for the `ours-before` client; reused while that directory exists.
 */
async function bundleBaselineWorker(rev: string): Promise<string> {
  const dir = join(HERE, '.baseline', rev);
  const built = join(dir, 'bench', '.build', 'worker.js');
  if (existsSync(built)) return built;
  rmSync(dir, { recursive: true, force: true });
  spawnSync('git', ['worktree', 'prune'], { cwd: ROOT });
  const added = spawnSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: ROOT, encoding: 'utf8' });
  if (added.status !== 0) throw new Error(`git worktree add ${rev} failed: ${added.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return bundle(join(dir, 'bench'), join(dir, 'bench', '.build'), false);
}

/** Runs one child alone, without phase barriers (profiling, the soak). */
async function runChild(
  worker: string,
  task: Task,
  timeoutMs: number,
  extraArgs: string[] = [],
): Promise<ChildOutcome> {
  return (await runChildren(ROOT, worker, [task], timeoutMs, null, extraArgs)).outcomes[0]!;
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const n = list.length;
  return list.map((_, i) => list[(i + by) % n]!);
}

function memcslapBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v memcslap'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : null;
}

function runMemcslap(
  bin: string,
  host: string,
  port: number,
  test: 'set' | 'get',
  perThread: number,
): MemcslapRun | null {
  const threads = 4;
  const out = spawnSync(
    bin,
    [
      `--servers=${host}:${port}`,
      `--test=${test}`,
      `--concurrency=${threads}`,
      `--execute-number=${perThread}`,
      '--tcp-nodelay',
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const m = new RegExp(`Time to ${test}\\s+(\\d+) keys by\\s+(\\d+) threads:\\s+([\\d.]+) seconds`).exec(
    `${out.stdout}${out.stderr}`,
  );
  if (!m) return null;
  const ops = Number(m[1]);
  const seconds = Number(m[3]);
  return { test, ops, threads: Number(m[2]), seconds, opsPerSec: ops / seconds };
}

function firstLine(cmd: string, args: string[]): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function libraryVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const name of ['memjs', 'memcached', 'memcache-client', 'memcache']) {
    try {
      versions[name] = (
        JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      versions[name] = '?';
    }
  }
  return versions;
}

/** The commit of the measured src/, and whether src/ has uncommitted changes. */
function describeSource(): string {
  const head = spawnSync('git', ['log', '-1', '--format=%h %s'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  const subject = head.stdout.trim();
  const short = subject.length > 90 ? `${subject.slice(0, 87)}...` : subject;
  return `${short}${dirty.stdout.trim() ? ' + local changes in src/' : ''}`;
}

/** Keeps the generated files in the repository's formatting (`biome check bench` stays clean). */
function formatResults(): void {
  spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', RESULTS_DIR], {
    stdio: 'ignore',
  });
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function profileMode(args: Args, worker: string, host: string, port: number): Promise<void> {
  const { scenario, op } = args.profile!;
  const spec = scenarioById(scenario);
  const client: ClientId = spec.clients.includes('ours') ? 'ours' : 'ours-cache';
  const dir = join(BUILD_DIR, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const task: Task = {
    scenario,
    client,
    host,
    port,
    mode: args.mode,
    runTag: randomBytes(3).toString('hex'),
  };
  if (op) task.only = [op];
  log(`profiling ${CLIENT_LABELS[client]} on ${scenario}${op ? `:${op}` : ''} (${args.mode})`);
  const outcome = await runChild(worker, task, 300_000, ['--cpu-prof', '--cpu-prof-dir', dir]);
  if (!outcome.result) throw new Error(`profiled run failed: ${outcome.error}`);
  for (const phase of outcome.result.phases) {
    log(`  ${phase.op}: ${fmt(phase.opsPerSec)} ops/s, ELU ${phase.elu.toFixed(2)}, errors ${phase.errors}`);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const summary = summarizeProfile(join(dir, file), 30);
  const text = formatProfile(
    summary,
    `CPU profile: ${CLIENT_LABELS[client]}, ${scenario}${op ? ` ${op}` : ''} (${args.mode}; includes warm-up; source ${describeSource()})`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, `profile-${scenario}${op ? `-${op}` : ''}.md`);
  writeFileSync(out, text);
  spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', out], { stdio: 'ignore' });
  process.stdout.write(text);
  log(`profile: ${join(dir, file)}\nsummary: ${out}`);
}

/** The cluster simulation: bench/results/cluster.{md,json}. */
async function clusterSimulation(args: Args, source: string): Promise<void> {
  const keys = args.mode === 'quick' ? 100_000 : 1_000_000;
  log(
    `cluster simulation · ${fmt(keys)} keys · ketama and rendezvous at ${CLUSTER_SIZES.join(', ')} servers`,
  );
  const rows = await simulateCluster(keys, log);
  const header = `${new Date().toISOString()} · ${args.mode} mode · Node ${process.version} · ${cpus()[0]?.model.trim() ?? 'unknown CPU'} · source ${source}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'cluster.md'), renderClusterMarkdown(rows, header));
  writeFileSync(join(RESULTS_DIR, 'cluster.json'), `${JSON.stringify({ header, rows }, null, 2)}\n`);
  formatResults();
  log(`wrote ${join('bench', 'results', 'cluster.md')}, cluster.json`);
}

/** The hot-key scenario: bench/results/hotkey.{md,json}. */
async function hotKeyScenario(args: Args, source: string, host: string, port: number): Promise<void> {
  const durationMs = args.mode === 'quick' ? 1500 : 5000;
  log(`hot key under invalidation · ${HOT_KEY_STRATEGIES.length} strategies · ${args.rounds} rounds`);
  const rows = await benchHotKey(host, port, args.rounds, durationMs, log);
  const header = `${new Date().toISOString()} · ${args.mode} mode, ${args.rounds} rounds of ${durationMs / 1000} s · Node ${process.version} · ${cpus()[0]?.model.trim() ?? 'unknown CPU'} · source ${source}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'hotkey.md'), renderHotKeyMarkdown(rows, header));
  writeFileSync(join(RESULTS_DIR, 'hotkey.json'), `${JSON.stringify({ header, rows }, null, 2)}\n`);
  formatResults();
  log(`wrote ${join('bench', 'results', 'hotkey.md')}, hotkey.json`);
}

/** The Keyv comparison: bench/results/keyv.{md,json}. */
async function keyvScenario(args: Args, source: string, host: string, port: number): Promise<void> {
  log(`Keyv: ours vs @keyv/memcache · ${args.rounds} rounds`);
  const rows = await benchKeyv(host, port, args.rounds, args.mode === 'quick');
  const header = `${new Date().toISOString()} · ${args.mode} mode, ${args.rounds} rounds · Node ${process.version} · ${cpus()[0]?.model.trim() ?? 'unknown CPU'} · source ${source}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, 'keyv.md'),
    `# Keyv store vs @keyv/memcache\n\n${header}\n\n${renderKeyvTable(rows)}\n`,
  );
  writeFileSync(join(RESULTS_DIR, 'keyv.json'), `${JSON.stringify({ header, rows }, null, 2)}\n`);
  formatResults();
  log(`wrote ${join('bench', 'results', 'keyv.md')}, keyv.json`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.cluster && !args.profile) {
    await clusterSimulation(args, describeSource());
    if (args.only !== null && args.only.length === 0 && !args.hotkey && !args.keyv) return;
  }
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const source = describeSource();
  const worker = await bundleWorker();
  log(`starting memcached -t ${THREADS} -m ${MEMORY_MB} …`);
  const server = await startMemcached({ threads: THREADS, memoryMb: MEMORY_MB });
  const { host, port } = server;
  const endpoints = [{ host, port }];
  try {
    if (args.profile) {
      await profileMode(args, worker, host, port);
      return;
    }
    if (args.hotkey) await hotKeyScenario(args, source, host, port);
    if (args.keyv) await keyvScenario(args, source, host, port);
    if (args.only !== null && args.only.length === 0) return;
    const scenarios: ScenarioSpec[] = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id));
    const serversNeeded = Math.max(1, ...scenarios.map((s) => s.servers ?? 1));
    while (endpoints.length < serversNeeded) {
      const extra = await startMemcached({ threads: THREADS, memoryMb: MEMORY_MB / 4 });
      endpoints.push({ host: extra.host, port: extra.port });
    }
    const runSoak = args.soak && (!args.only || args.only.includes('soak'));
    const slap = args.memcslap ? memcslapBinary() : null;
    const runSlap = slap !== null && scenarios.some((s) => s.id === 'p100-100b');
    const plan: Array<
      { scenario: ScenarioId; client: ClientId; round: number } | { memcslap: true; round: number }
    > = [];
    for (let round = 0; round < args.rounds; round++) {
      for (const spec of scenarios) {
        if (args.mode === 'quick' && round >= (spec.quickRounds ?? args.rounds)) continue;
        const clients = clientsOf(spec, args.before).filter((c) => !args.clients || args.clients.includes(c));
        for (const client of rotate(clients, round)) plan.push({ scenario: spec.id, client, round });
        // memcslap is a side line: once per round in full mode, once in quick mode.
        if (spec.id === 'p100-100b' && runSlap && (args.mode === 'full' || round === 0))
          plan.push({ memcslap: true, round });
      }
    }
    const total = plan.length + (runSoak ? 1 : 0);
    const timeoutMs = args.mode === 'quick' ? 30_000 : 180_000;
    const records: RawRecord[] = [];
    const slapRuns: MemcslapRun[] = [];
    const runTag = randomBytes(3).toString('hex');
    let baselineWorker: string | null = null;
    let revWorker: string | null = null;
    let step = 0;
    for (const item of plan) {
      step++;
      if ('memcslap' in item) {
        log(`[${step}/${total}] memcslap (side line) · round ${item.round + 1}/${args.rounds}`);
        const perThread = args.mode === 'quick' ? 2_000 : 50_000;
        for (const test of ['set', 'get'] as const) {
          const run = runMemcslap(slap!, host, port, test, perThread);
          if (run) slapRuns.push(run);
        }
        continue;
      }
      log(
        `[${step}/${total}] ${item.scenario} · ${CLIENT_LABELS[item.client]} · round ${item.round + 1}/${args.rounds}`,
      );
      const spec = scenarioById(item.scenario);
      const servers = endpoints.slice(0, spec.servers ?? 1);
      const task: Task = {
        scenario: item.scenario,
        client: item.client,
        host,
        port,
        servers,
        mode: args.mode,
        runTag: `${runTag}${item.round}`,
      };
      const childStart = Date.now();
      let childWorker = worker;
      const before = item.client === 'ours-before';
      if (before) {
        // The old build knows neither this scenario id nor this client id (nor phase barriers):
        // it runs the same parameters under the id they had then, as its own client.
        task.scenario = spec.asScenario ?? item.scenario;
        task.client = 'ours';
        baselineWorker ??= await bundleBaselineWorker(TRACING_BEFORE_REV);
        childWorker = baselineWorker;
      } else if (item.client === 'ours-rev') {
        // A build from after the scale scenarios: it knows every id and the barriers.
        task.client = 'ours';
        task.runTag += 'r';
        revWorker ??= await bundleBaselineWorker(args.before!);
        childWorker = revWorker;
      }
      const tasks = Array.from({ length: spec.processes ?? 1 }, (_, i) => ({ ...task, process: i }));
      const run = await runChildren(ROOT, childWorker, tasks, timeoutMs, before ? null : servers);
      const outcome = mergeProcesses(run.outcomes);
      for (const phase of outcome.result?.phases ?? []) {
        const seconds = run.serverCpu.get(phase.op);
        if (seconds !== undefined && phase.ops > 0) phase.serverCpuUsPerOp = (seconds * 1e6) / phase.ops;
      }
      const took = `${((Date.now() - childStart) / 1000).toFixed(1)} s`;
      if (outcome.result) {
        records.push({
          scenario: item.scenario,
          client: item.client,
          round: item.round,
          phases: outcome.result.phases,
        });
        const summary = outcome.result.phases
          .map(
            (p) =>
              `${p.op} ${fmt(p.opsPerSec)}/s${p.p50 !== undefined ? ` p50 ${p.p50.toFixed(0)}µs` : ''}${Number.isFinite(p.cpuUsPerOp) ? ` cpu ${p.cpuUsPerOp.toFixed(2)}µs/op` : ''}${Number.isFinite(p.serverCpuUsPerOp) ? ` server ${p.serverCpuUsPerOp!.toFixed(2)}µs/op` : ''}${p.errors ? ` ERR ${p.errors}` : ''}${p.cutOff ? ' CUT OFF' : ''}`,
          )
          .join(', ');
        log(`        ${summary} (${took})`);
      } else {
        records.push({
          scenario: item.scenario,
          client: item.client,
          round: item.round,
          error: outcome.error!,
        });
        log(`        FAILED: ${outcome.error}`);
      }
    }
    let soak: SoakResult | null = null;
    let soakError: string | null = null;
    if (runSoak) {
      step++;
      log(`[${step}/${total}] soak · ${CLIENT_LABELS.ours} · ${fmt(SOAK.count[args.mode])} ops`);
      const outcome = await runChild(
        worker,
        { scenario: 'soak', client: 'ours', host, port, mode: args.mode, runTag },
        timeoutMs * 2,
      );
      soak = outcome.result?.soak ?? null;
      soakError = outcome.error ?? null;
      if (soak)
        log(
          `        RSS ${soak.baselineRssMb.toFixed(1)} → ${soak.finalRssMb.toFixed(1)} MB (${soak.rssGrowthMb.toFixed(1)} MB)`,
        );
      else log(`        FAILED: ${soakError}`);
    } else soakError = 'skipped (--no-soak or --only)';
    const cpuList = cpus();
    const meta: Meta = {
      date: new Date().toISOString(),
      mode: args.mode,
      rounds: args.rounds,
      cpu: cpuList[0]?.model.trim() ?? 'unknown',
      cores: cpuList.length,
      node: process.version,
      memcached: firstLine(memcachedBinary(), ['-V']).replace(/^memcached\s*/, ''),
      memcachedArgs: `memcached ${server.args.join(' ')}`,
      memcslap: slap ? firstLine(slap, ['--version']) : 'not installed',
      libraries: libraryVersions(),
      wallSeconds: (Date.now() - started) / 1000,
      load: `${loadBefore.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (1-minute load average; ${cpuList.length} cores)`,
      source,
      hardLimitSeconds: LIMITS[args.mode].hard,
      softLimitSeconds: LIMITS[args.mode].soft,
      before: args.before,
    };
    const report = buildReport(meta, records, soak, soakError, slapRuns);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'latest.md'), renderMarkdown(report));
    writeFileSync(join(RESULTS_DIR, 'latest.svg'), renderSvg(report));
    writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify({ ...report, records }, null, 2)}\n`);
    formatResults();
    // A full run of everything is what the README quotes.
    if (args.mode === 'full' && args.only === null && args.clients === null) {
      updateReadme(report);
      log('README.md: benchmark table regenerated');
    }
    process.stdout.write(
      `\nTargets (${args.mode} mode, ${args.rounds} rounds, ${meta.wallSeconds.toFixed(0)} s)\n\n${renderTargets(report)}\n\n`,
    );
    process.stdout.write(`wrote ${join('bench', 'results', 'latest.md')}, latest.svg, latest.json\n`);
  } finally {
    await stopAllMemcached();
  }
}

main().catch(async (error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await stopAllMemcached();
  process.exit(1);
});
