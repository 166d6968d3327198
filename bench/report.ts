// Turns the children's results into medians, ratios, targets, and the three result files.

import {
  BOUNDS,
  CLIENT_LABELS,
  type ClientId,
  clientsOf,
  type Mode,
  type OpKind,
  OURS,
  PEERS,
  type PhaseResult,
  SCENARIOS,
  type ScenarioId,
  type SoakResult,
  scenarioById,
} from './scenarios.js';

export interface Meta {
  date: string;
  mode: Mode;
  rounds: number;
  cpu: string;
  cores: number;
  node: string;
  memcached: string;
  memcachedArgs: string;
  memcslap: string;
  libraries: Record<string, string>;
  wallSeconds: number;
  /** Machine load around the run: other processes compete for the same cores. */
  load: string;
  /** The source measured: git commit, plus "+ local changes" when src/ differs from it. */
  source: string;
  hardLimitSeconds: number;
  softLimitSeconds: number;
  /** The commit `ours-rev` was built from (`--before`), or null. */
  before: string | null;
}

export interface MemcslapRun {
  test: 'set' | 'get';
  ops: number;
  threads: number;
  seconds: number;
  opsPerSec: number;
}

export interface Row {
  client: ClientId;
  rounds: number;
  opsPerSec: number;
  min: number;
  max: number;
  /** ops/s of each round (index = round; null where that round has no result): per-round ratios. */
  roundOps: Array<number | null>;
  /** ours: vs the best peer; a peer: vs the best peer too (1.0 for the best). */
  ratio: number | null;
  p50?: number;
  p99?: number;
  rssMb: number;
  elu: number;
  cpuUsPerOp: number;
  /** The server's CPU per operation, µs (NaN when not measured). */
  serverCpuUsPerOp: number;
  errors: number;
  /** Rounds in which the client did not answer everything in flight within the hard limit. */
  cutOffs: number;
  failures: string[];
}

export interface Table {
  scenario: ScenarioId;
  op: OpKind;
  title: string;
  latency: boolean;
  rows: Row[];
  bestPeer: ClientId | null;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean;
}

export interface Report {
  meta: Meta;
  tables: Table[];
  targets: Target[];
  soak: SoakResult | null;
  soakError: string | null;
  memcslap: Array<{ test: string; threads: number; opsPerSec: number; rounds: number }>;
}

export interface RawRecord {
  scenario: ScenarioId;
  client: ClientId;
  round: number;
  phases?: PhaseResult[];
  error?: string;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const OP_TITLES: Record<OpKind, string> = {
  get: 'get',
  set: 'set',
  mget: 'multi-get',
  store: 'store',
  retrieve: 'retrieve',
  mixed: 'mixed',
};

export function buildReport(
  meta: Meta,
  records: RawRecord[],
  soak: SoakResult | null,
  soakError: string | null,
  memcslap: MemcslapRun[],
): Report {
  const tables: Table[] = [];
  for (const spec of SCENARIOS) {
    for (const op of spec.ops) {
      const rows: Row[] = [];
      for (const client of clientsOf(spec, meta.before)) {
        const mine = records.filter((r) => r.scenario === spec.id && r.client === client);
        const phases = mine.flatMap((r) => (r.phases ?? []).filter((p) => p.op === op));
        const failures = mine.filter((r) => r.error).map((r) => r.error!);
        if (phases.length === 0 && failures.length === 0) continue;
        const ops = phases.map((p) => p.opsPerSec);
        const roundOps: Array<number | null> = [];
        for (const r of mine) {
          const phase = (r.phases ?? []).find((p) => p.op === op);
          if (phase === undefined) continue;
          while (roundOps.length <= r.round) roundOps.push(null);
          roundOps[r.round] = phase.opsPerSec;
        }
        const row: Row = {
          client,
          rounds: phases.length,
          opsPerSec: median(ops),
          min: Math.min(...ops),
          max: Math.max(...ops),
          roundOps,
          ratio: null,
          rssMb: median(phases.map((p) => p.rssMb)),
          elu: median(phases.map((p) => p.elu)),
          cpuUsPerOp: median(phases.map((p) => p.cpuUsPerOp ?? Number.NaN)),
          serverCpuUsPerOp: median(phases.map((p) => p.serverCpuUsPerOp ?? Number.NaN)),
          errors: phases.reduce((sum, p) => sum + p.errors, 0),
          cutOffs: phases.filter((p) => p.cutOff).length,
          failures,
        };
        if (spec.latency) {
          row.p50 = median(phases.map((p) => p.p50 ?? Number.NaN));
          row.p99 = median(phases.map((p) => p.p99 ?? Number.NaN));
        }
        rows.push(row);
      }
      const peers = rows.filter((r) => PEERS.includes(r.client) && r.rounds > 0 && r.errors === 0);
      const best = spec.baseline
        ? (rows.find((r) => r.client === spec.baseline && r.rounds > 0) ?? null)
        : peers.reduce<Row | null>((a, b) => (a === null || b.opsPerSec > a.opsPerSec ? b : a), null);
      for (const row of rows) {
        if (best !== null && row.rounds > 0 && !BOUNDS.includes(row.client))
          row.ratio = row.opsPerSec / best.opsPerSec;
      }
      tables.push({
        scenario: spec.id,
        op,
        title: `${spec.title} — ${OP_TITLES[op]}`,
        latency: spec.latency,
        rows,
        bestPeer: best?.client ?? null,
      });
    }
  }
  const bySetTest = new Map<string, MemcslapRun[]>();
  for (const run of memcslap) bySetTest.set(run.test, [...(bySetTest.get(run.test) ?? []), run]);
  const report: Report = {
    meta,
    tables,
    targets: [],
    soak,
    soakError,
    memcslap: [...bySetTest].map(([test, runs]) => ({
      test,
      threads: runs[0]!.threads,
      opsPerSec: median(runs.map((r) => r.opsPerSec)),
      rounds: runs.length,
    })),
  };
  report.targets = evaluateTargets(report);
  return report;
}

export function table(report: Report, scenario: ScenarioId, op: OpKind): Table | undefined {
  return report.tables.find((t) => t.scenario === scenario && t.op === op);
}

export function oursRow(t: Table | undefined): Row | undefined {
  return t?.rows.find((r) => OURS.includes(r.client));
}

const fmtRatio = (x: number): string => `${x.toFixed(2)}×`;
const fmtShare = (x: number): string => `${(100 * x).toFixed(0)} %`;

/** A goal of issue 24: ours ÷ best peer (ops/s) and, where set, ours ÷ the raw socket bound. */
export interface Goal {
  scenario: ScenarioId;
  op: OpKind;
  label: string;
  /** Least ours ÷ best peer. */
  peer: number;
  /** Least ours ÷ raw bound (a share), when there is a goal for it. */
  raw?: number;
}

export const GOAL_LIST: readonly Goal[] = [
  { scenario: 'seq', op: 'set', label: 'sequential (1 in flight), 100 B, set', peer: 1.05, raw: 0.9 },
  { scenario: 'seq', op: 'get', label: 'sequential (1 in flight), 100 B, get', peer: 1.1, raw: 0.9 },
  { scenario: 'p100-100b', op: 'set', label: '100 in flight, 100 B, set', peer: 3, raw: 0.8 },
  { scenario: 'p100-100b', op: 'get', label: '100 in flight, 100 B, get', peer: 3, raw: 0.8 },
  { scenario: 'p100-10kb', op: 'set', label: '100 in flight, 10 KB, set', peer: 1.6 },
  { scenario: 'p100-10kb', op: 'get', label: '100 in flight, 10 KB, get', peer: 2 },
  { scenario: 'p100-100kb', op: 'set', label: '100 in flight, 100 KB, set', peer: 1.5 },
  { scenario: 'p100-100kb', op: 'get', label: '100 in flight, 100 KB, get', peer: 1.5 },
  { scenario: 'p100-500kb', op: 'set', label: '100 in flight, 500 KB, set', peer: 1 },
  { scenario: 'p100-500kb', op: 'get', label: '100 in flight, 500 KB, get', peer: 1 },
  { scenario: 'mget-100', op: 'mget', label: 'multi-get of 100 keys, 1 in flight', peer: 2.5, raw: 0.9 },
];

/** A ratio of two clients' ops/s: of the medians, and the range of the per-round ratios. */
export interface RatioStat {
  median: number;
  min: number;
  max: number;
}

/** `a` ÷ `b`: of the medians, and min–max over the rounds both ran (the median when none match). */
export function ratioStat(a: Row, b: Row): RatioStat {
  const median = a.opsPerSec / b.opsPerSec;
  const perRound: number[] = [];
  const rounds = Math.min(a.roundOps?.length ?? 0, b.roundOps?.length ?? 0);
  for (let i = 0; i < rounds; i++) {
    const x = a.roundOps[i];
    const y = b.roundOps[i];
    if (x != null && y != null && y > 0) perRound.push(x / y);
  }
  if (perRound.length === 0) return { median, min: median, max: median };
  return { median, min: Math.min(...perRound), max: Math.max(...perRound) };
}

/**
 * What a goal's scenario measured: ours, the best peer and the bounds, with their ratios. The
 * goals are judged against `raw`; `rawMeta` (the bound sending our requests) and `promise` (the
 * least a client with a promise per call does) are shown beside it.
 */
export interface GoalOutcome {
  ours: Row;
  peer: Row | null;
  raw: Row | null;
  rawMeta: Row | null;
  promise: Row | null;
  vsPeer: RatioStat | null;
  vsRaw: RatioStat | null;
  vsRawMeta: RatioStat | null;
  vsPromise: RatioStat | null;
  /** The promise bound ÷ raw: what one promise per call costs before anything else a client does. */
  promiseVsRaw: RatioStat | null;
  /** Ours ran cleanly: no errors, failures or cut-offs. */
  clean: boolean;
}

export function goalOutcome(report: Report, goal: Goal): GoalOutcome | null {
  const t = table(report, goal.scenario, goal.op);
  const ours = t?.rows.find((r) => r.client === 'ours' && r.rounds > 0);
  if (t === undefined || ours === undefined) return null;
  return outcomeIn(t, ours);
}

/** `ours` against the best peer and the raw bounds of its table. */
export function outcomeIn(t: Table, ours: Row): GoalOutcome {
  const ran = (client: ClientId | null): Row | null =>
    t.rows.find((r) => r.client === client && r.rounds > 0) ?? null;
  const peer = ran(t.bestPeer);
  const raw = ran('raw');
  const rawMeta = ran('raw-meta');
  const promise = ran('raw-promise');
  return {
    ours,
    peer,
    raw,
    rawMeta,
    promise,
    vsPeer: peer === null ? null : ratioStat(ours, peer),
    vsRaw: raw === null ? null : ratioStat(ours, raw),
    vsRawMeta: rawMeta === null ? null : ratioStat(ours, rawMeta),
    vsPromise: promise === null ? null : ratioStat(ours, promise),
    promiseVsRaw: promise === null || raw === null ? null : ratioStat(promise, raw),
    clean: ours.errors === 0 && ours.failures.length === 0 && ours.cutOffs === 0,
  };
}

/**
 * `; ours ÷ raw with our flags: X % (range) of N` and `; ours ÷ promise-per-call bound: …` for
 * the bounds that ran beside `raw`, else ''.
 */
export function besideRaw(o: GoalOutcome): string {
  let text = '';
  if (o.rawMeta !== null && o.vsRawMeta !== null)
    text +=
      o.rawMeta.errors > 0
        ? `; raw with our flags: ${o.rawMeta.errors} errors`
        : `; ours ÷ raw with our flags: ${fmtShareStat(o.vsRawMeta)} of ${fmt(o.rawMeta.opsPerSec)}`;
  if (o.promise !== null && o.vsPromise !== null)
    text +=
      o.promise.errors > 0
        ? `; promise bound: ${o.promise.errors} errors`
        : `; ours ÷ promise-per-call bound: ${fmtShareStat(o.vsPromise)} of ${fmt(o.promise.opsPerSec)}${
            o.promiseVsRaw === null ? '' : ` (itself ${fmtShareStat(o.promiseVsRaw)} of raw)`
          }`;
  return text;
}

export const fmtRatioStat = (s: RatioStat): string =>
  `${fmtRatio(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
export const fmtShareStat = (s: RatioStat): string =>
  `${fmtShare(s.median)} (${(100 * s.min).toFixed(0)}–${(100 * s.max).toFixed(0)} %)`;

function evaluateTargets(report: Report): Target[] {
  const targets: Target[] = [];
  for (const goal of GOAL_LIST) {
    const o = goalOutcome(report, goal);
    const okPeer = o?.clean === true && o.vsPeer !== null;
    targets.push({
      name: `${goal.label}: ours ÷ best peer, ops/s (range: per round)`,
      goal: `≥ ${fmtRatio(goal.peer)}`,
      measured: okPeer
        ? `${fmtRatioStat(o.vsPeer!)}: ${fmt(o.ours.opsPerSec)} vs ${o.peer!.client} ${fmt(o.peer!.opsPerSec)}${
            o.raw !== null && goal.raw === undefined
              ? `; ours ÷ raw ${fmtShareStat(o.vsRaw!)} of ${fmt(o.raw.opsPerSec)}${besideRaw(o)}`
              : ''
          }`
        : 'not measured / errors',
      pass: okPeer && o.vsPeer!.median >= goal.peer,
    });
    if (goal.raw === undefined) continue;
    const okRaw = o?.clean === true && o.vsRaw !== null;
    targets.push({
      name: `${goal.label}: ours ÷ raw socket bound, ops/s (range: per round)`,
      goal: `≥ ${fmtShare(goal.raw)}`,
      measured: okRaw
        ? `${fmtShareStat(o.vsRaw!)}: ${fmt(o.ours.opsPerSec)} of ${fmt(o.raw!.opsPerSec)}${besideRaw(o)}`
        : 'not measured',
      pass: okRaw && o.vsRaw!.median >= goal.raw,
    });
  }
  const soak = report.soak;
  const ops = soak ? fmt(soak.ops) : '?';
  const quick = report.meta.mode === 'quick' ? ' (quick mode: 100 k, not 1 M)' : '';
  targets.push({
    name: `RSS growth of our client over the second half of ${ops} mixed ops${quick}`,
    goal: `≤ +${SOAK_GOAL_MB} MB`,
    measured: soak
      ? `${signed(soak.secondHalfRssMb)} MB (whole run from the baseline ${signed(soak.rssGrowthMb)} MB)`
      : `not measured: ${report.soakError ?? ''}`,
    pass: soak !== null && soak.secondHalfRssMb <= SOAK_GOAL_MB,
  });
  targets.push({
    name: `heapUsed of our client after forced GCs over ${ops} mixed ops${quick}`,
    goal: `flat (± ${SOAK_GOAL_MB} MB)`,
    measured: soak
      ? `${soak.baselineHeapMb.toFixed(1)} → ${soak.finalHeapMb.toFixed(1)} MB (${signed(soak.heapGrowthMb)} MB)`
      : 'not measured',
    pass: soak !== null && Math.abs(soak.heapGrowthMb) <= SOAK_GOAL_MB,
  });
  return targets;
}

/** Memory the soak may gain over its second half (and heapUsed over the whole run), MB. */
const SOAK_GOAL_MB = 1;

export function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 10_000_000) return `${(n / 1_000_000).toFixed(1)} M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} k`;
  return n.toFixed(0);
}

export function renderTargets(report: Report): string {
  const lines = ['| target | goal | measured | |', '| --- | --- | --- | --- |'];
  for (const t of report.targets)
    lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.pass ? '✅' : '❌'} |`);
  return lines.join('\n');
}

export function renderMarkdown(report: Report): string {
  const m = report.meta;
  const out: string[] = [];
  out.push('# memcached-cache benchmark', '');
  out.push(`- date: ${m.date}`);
  out.push(
    `- mode: **${m.mode}**, ${m.rounds} rounds (median shown, min–max range beside it), wall time ${m.wallSeconds.toFixed(0)} s`,
  );
  out.push(`- machine: ${m.cpu}, ${m.cores} cores; load ${m.load}`);
  out.push(`- source measured: ${m.source} (bundled once at the start of the run)`);
  if (m.before !== null)
    out.push(`- before/after: \`${CLIENT_LABELS['ours-rev']}\` is our client built from ${m.before}`);
  out.push(
    `- Node ${m.node}; memcached ${m.memcached} (\`${m.memcachedArgs}\`, same server for every client)`,
  );
  out.push(
    `- libraries: ${Object.entries(m.libraries)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(
    '- each client runs in its own child process per scenario; ratio = ops/s ÷ best peer ops/s (raw bounds and memcslap excluded)',
  );
  out.push('', '## Targets', '', renderTargets(report), '');
  for (const t of report.tables) {
    out.push(`## ${t.title}`, '');
    const baseline = scenarioById(t.scenario).baseline;
    const head = [
      'client',
      'ops/s',
      'range',
      baseline ? `ratio vs ${CLIENT_LABELS[baseline]}` : 'ratio vs best peer',
    ];
    if (t.latency) head.push(t.op === 'mget' ? 'p50 µs (per 100 keys)' : 'p50 µs', 'p99 µs');
    head.push('CPU µs/op', 'server CPU µs/op', 'RSS MB', 'ELU', 'errors');
    out.push(`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const r of t.rows) {
      const name = OURS.includes(r.client) ? `**${CLIENT_LABELS[r.client]}**` : CLIENT_LABELS[r.client];
      const cells = [
        name,
        r.rounds > 0 ? fmt(r.opsPerSec) : 'failed',
        r.rounds > 0 ? `${fmt(r.min)}–${fmt(r.max)}` : '',
        r.ratio === null ? (BOUNDS.includes(r.client) ? '(bound)' : '–') : fmtRatio(r.ratio),
      ];
      if (t.latency)
        cells.push(
          r.p50 === undefined ? '–' : r.p50.toFixed(1),
          r.p99 === undefined ? '–' : r.p99.toFixed(1),
        );
      let errors = String(r.errors);
      if (r.cutOffs > 0) errors += ` · cut off in ${r.cutOffs} of ${r.rounds} rounds†`;
      if (r.failures.length > 0)
        errors += ` · ${r.failures.length} run(s) failed: ${r.failures[0]!.split('\n')[0]!.slice(0, 80)}`;
      cells.push(perOp(r.cpuUsPerOp), perOp(r.serverCpuUsPerOp));
      cells.push(
        Number.isFinite(r.rssMb) ? r.rssMb.toFixed(0) : '–',
        Number.isFinite(r.elu) ? r.elu.toFixed(2) : '–',
        errors,
      );
      out.push(`| ${cells.join(' | ')} |`);
    }
    if (t.rows.some((r) => r.cutOffs > 0)) {
      out.push(
        '',
        `† The client had not answered every request in flight ${report.meta.hardLimitSeconds} s after the phase started; ops/s is what completed by then (an upper bound on its real rate).`,
      );
    }
    if (t.scenario === 'p100-100b' && report.memcslap.length > 0 && t.op !== 'set') {
      out.push('');
      for (const s of report.memcslap) {
        out.push(
          `Side line, not in ratios — \`memcslap -t ${s.test} -c ${s.threads}\` (C, libmemcached, ${s.threads} blocking threads, its own key/value sizes): ${fmt(s.opsPerSec)} ops/s (median of ${s.rounds}).`,
          '',
        );
      }
    }
    out.push('');
  }
  out.push(...renderSoak(report), '');
  return `${out.join('\n')}\n`;
}

function renderSoak(report: Report): string[] {
  const s = report.soak;
  const out = ['## Memory of our client over many operations (mixed get/set, 100 in flight, 100 B)', ''];
  if (!s) return [...out, `Not measured: ${report.soakError ?? 'skipped'}`];
  out.push(
    `${fmt(s.ops)} operations at ${fmt(s.opsPerSec)} ops/s, after a warm-up (every key written, then ${fmt(s.samples[0]!.warmUpOps ?? 0)} mixed operations: until V8's young generation had not grown for two chunks of 50 k). Every checkpoint is taken after a forced full GC. Second half: RSS **${signed(s.secondHalfRssMb)} MB**, heapUsed ${signed(s.secondHalfHeapMb)} MB; whole run from the baseline: RSS ${signed(s.rssGrowthMb)} MB, heapUsed ${signed(s.heapGrowthMb)} MB.`,
    '',
    '| operations | RSS MB | heapUsed MB | heapTotal MB | young generation MB | external MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const x of s.samples) {
    out.push(
      `| ${fmt(x.ops)} | ${x.rssMb.toFixed(1)} | ${x.heapUsedMb.toFixed(1)} | ${x.heapTotalMb.toFixed(1)} | ${x.newSpaceMb.toFixed(1)} | ${x.externalMb.toFixed(1)} |`,
    );
  }
  out.push(
    '',
    "The young generation is V8's nursery (new space): a GC empties it but keeps its size, and V8 enlarges it while the allocation rate is high. RSS that grows with heapTotal while heapUsed stays flat is that nursery, not memory held per operation.",
  );
  return out;
}

export const perOp = (us: number): string => (Number.isFinite(us) ? us.toFixed(us < 100 ? 2 : 0) : '–');

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SHORT: Partial<Record<ScenarioId, string>> = {
  seq: 'sequential',
  'p100-100b': '100 B ×100',
  'p100-10kb': '10 KB ×100',
  'p100-100kb': '100 KB ×100',
  'p100-500kb': '500 KB ×100',
  'mget-100': 'multi-get 100',
  'cache-json': 'cache JSON',
  'scale-3-servers': '3 servers ×1000',
  'scale-4-processes': '4 processes ×100',
};

/** Ratio goals (ours ÷ best peer) by `scenario op`, for the chart and the README. */
export const GOALS: Partial<Record<string, number>> = Object.fromEntries(
  GOAL_LIST.map((g) => [`${g.scenario} ${g.op}`, g.peer]),
);

/** Horizontal bar chart of our ops/s ÷ best peer ops/s per scenario, with a line at 1.0×. */
export function renderSvg(report: Report): string {
  const bars = report.tables
    .filter((t) => scenarioById(t.scenario).baseline === undefined)
    .map((t) => ({ t, ours: oursRow(t) }))
    .filter((b) => b.ours !== undefined && b.ours.ratio !== null)
    .map((b) => ({
      label: `${SHORT[b.t.scenario] ?? b.t.scenario} ${OP_TITLES[b.t.op]}`,
      ratio: b.ours!.ratio!,
      goal: GOALS[`${b.t.scenario} ${b.t.op}`],
      peer: b.t.bestPeer ?? '',
    }));
  const width = 760;
  const left = 170;
  const right = 120;
  const top = 56;
  const rowH = 30;
  const height = top + bars.length * rowH + 40;
  const maxRatio = Math.max(1.5, ...bars.map((b) => Math.max(b.ratio, b.goal ?? 0))) * 1.08;
  const scale = (width - left - right) / maxRatio;
  const x = (r: number): number => left + r * scale;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">memcached-cache ops/s divided by the best peer's ops/s, per scenario</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="600">memcached-cache ops/s ÷ best peer ops/s</text>`,
    `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${escapeXml(`${report.meta.mode} mode, median of ${report.meta.rounds} rounds, ${report.meta.date.slice(0, 10)}; ▮ marks the target`)}</text>`,
  );
  for (let tick = 0; tick <= maxRatio; tick += maxRatio > 6 ? 1 : 0.5) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + bars.length * rowH}" stroke="#eee"/>`,
      `<text x="${tx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#777">${tick}×</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const pass = b.ratio >= (b.goal ?? 1);
    const color = pass ? '#2e9d5b' : '#d4493b';
    parts.push(
      `<text x="${left - 8}" y="${y + 19}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect x="${left}" y="${y + 6}" width="${Math.max(1, b.ratio * scale).toFixed(1)}" height="${rowH - 12}" fill="${color}" rx="2"/>`,
      `<text x="${(x(b.ratio) + 6).toFixed(1)}" y="${y + 19}">${b.ratio.toFixed(2)}× <tspan fill="#888">vs ${escapeXml(b.peer)}</tspan></text>`,
    );
    if (b.goal !== undefined) {
      parts.push(
        `<rect x="${(x(b.goal) - 1.5).toFixed(1)}" y="${y + 3}" width="3" height="${rowH - 6}" fill="#333"/>`,
      );
    }
  });
  const one = x(1).toFixed(1);
  parts.push(
    `<line x1="${one}" y1="${top - 6}" x2="${one}" y2="${top + bars.length * rowH + 2}" stroke="#222" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    `<text x="${one}" y="${top + bars.length * rowH + 32}" text-anchor="middle" font-weight="600">1.0× = best peer</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
