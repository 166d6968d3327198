// Turns the children's results into medians, ratios, targets, and the three result files.

import {
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
        const row: Row = {
          client,
          rounds: phases.length,
          opsPerSec: median(ops),
          min: Math.min(...ops),
          max: Math.max(...ops),
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
        if (best !== null && row.rounds > 0 && row.client !== 'raw')
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

function evaluateTargets(report: Report): Target[] {
  const targets: Target[] = [];
  const ratioTarget = (scenario: ScenarioId, op: OpKind, goal: number, label: string): void => {
    const t = table(report, scenario, op);
    const ours = oursRow(t);
    const ok =
      ours !== undefined &&
      ours.ratio !== null &&
      ours.errors === 0 &&
      ours.failures.length === 0 &&
      ours.cutOffs === 0;
    // What the raw socket reaches relative to the same best peer: the ceiling for any client.
    const raw = t?.rows.find((r) => r.client === 'raw' && r.rounds > 0);
    const ceiling =
      ok && raw ? `; raw bound = ${fmtRatio(raw.opsPerSec / (ours.opsPerSec / ours.ratio!))}` : '';
    targets.push({
      name: `${label} ${op}: ops/s vs best peer`,
      goal: `≥ ${fmtRatio(goal)}`,
      measured: ok
        ? `${fmtRatio(ours.ratio!)} (${fmt(ours.opsPerSec)} vs ${t!.bestPeer} ${fmt(ours.opsPerSec / ours.ratio!)}${ceiling})`
        : 'not measured / errors',
      pass: ok && ours.ratio! >= goal,
    });
  };
  for (const op of ['get', 'set'] as const) ratioTarget('p100-100b', op, 3, '100 in flight, 100 B,');
  for (const op of ['get', 'set'] as const) {
    const t = table(report, 'p100-100b', op);
    const ours = oursRow(t);
    const raw = t?.rows.find((r) => r.client === 'raw');
    const ok = ours !== undefined && raw !== undefined && raw.rounds > 0 && ours.rounds > 0;
    const share = ok ? ours.opsPerSec / raw.opsPerSec : 0;
    targets.push({
      name: `100 in flight, 100 B, ${op}: share of the raw bound (pipelined ${op === 'get' ? 'mg' : 'ms'}, batches of 100)`,
      goal: '≥ 80%',
      measured: ok
        ? `${(100 * share).toFixed(0)}% (${fmt(ours.opsPerSec)} of ${fmt(raw.opsPerSec)})`
        : 'not measured',
      pass: ok && share >= 0.8,
    });
  }
  ratioTarget('p100-10kb', 'get', 2.0, '100 in flight, 10 KB,');
  ratioTarget('p100-10kb', 'set', 1.6, '100 in flight, 10 KB,');
  for (const op of ['get', 'set'] as const) ratioTarget('p100-100kb', op, 1.5, '100 in flight, 100 KB,');
  for (const op of ['get', 'set'] as const) ratioTarget('p100-500kb', op, 1.0, '100 in flight, 500 KB,');
  ratioTarget('mget-100', 'mget', 3, 'multi-get of 100 keys,');
  for (const op of ['get', 'set'] as const) {
    const t = table(report, 'seq', op);
    const ours = oursRow(t);
    const peers = (t?.rows ?? []).filter((r) => PEERS.includes(r.client) && r.rounds > 0 && r.errors === 0);
    const best = peers.reduce<Row | null>((a, b) => (a === null || b.p50! < a.p50! ? b : a), null);
    const ok = ours !== undefined && best !== null && ours.p50 !== undefined;
    targets.push({
      name: `sequential ${op}: p50 latency ÷ best peer's p50`,
      goal: `≤ ${SEQUENTIAL_P50_GOAL.toFixed(2)}`,
      measured: ok
        ? `${(ours.p50! / best.p50!).toFixed(2)} (${ours.p50!.toFixed(1)} µs vs ${best.client} ${best.p50!.toFixed(1)} µs)`
        : 'not measured',
      pass: ok && ours.p50! <= SEQUENTIAL_P50_GOAL * best.p50!,
    });
  }
  const soak = report.soak;
  const ops = soak ? fmt(soak.ops) : '?';
  const quick = report.meta.mode === 'quick' ? ' (quick mode: 100 k, not 1 M)' : '';
  targets.push({
    name: `RSS growth of our client over the second half of ${ops} mixed ops${quick}`,
    goal: `≤ ${SOAK_GOAL_MB} MB`,
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

/** Our sequential p50 may be at most this fraction of the best peer's. */
export const SEQUENTIAL_P50_GOAL = 0.9;
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
    '- each client runs in its own child process per scenario; ratio = ops/s ÷ best peer ops/s (raw bound and memcslap excluded)',
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
        r.ratio === null ? (r.client === 'raw' ? '(bound)' : '–') : fmtRatio(r.ratio),
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
export const GOALS: Partial<Record<string, number>> = {
  'p100-100b get': 3,
  'p100-100b set': 3,
  'p100-10kb get': 2,
  'p100-10kb set': 1.6,
  'p100-100kb get': 1.5,
  'p100-100kb set': 1.5,
  'p100-500kb get': 1,
  'p100-500kb set': 1,
  'mget-100 mget': 3,
};

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
