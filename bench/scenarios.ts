// Scenario and client definitions shared by the parent (bench/run.ts) and the child (bench/worker.ts).

export type Mode = 'full' | 'quick';

/**
 * The commit before the TracingChannels (issue 14): `ours-before` is our client built from it,
 * so the tracing scenario shows what an unsubscribed channel costs against not having one.
 */
export const TRACING_BEFORE_REV = '0ecbb47';

/**
 * Every client the bench can drive. `raw` is the pipelined-socket bound, not a peer; `raw-meta`
 * the same bound sending the requests our client sends (its flags and opaque tokens).
 */
export type ClientId =
  | 'ours'
  | 'memjs'
  | 'memcached'
  | 'memcache-client'
  | 'memcache'
  | 'raw'
  | 'raw-meta'
  | 'raw-promise'
  | 'ours-cache'
  | 'pip-memcached'
  | 'ours-traced'
  | 'ours-otel'
  | 'ours-before'
  | 'ours-rev';

export const CLIENT_LABELS: Record<ClientId, string> = {
  ours: 'memcached-cache (ours)',
  memjs: 'memjs',
  memcached: 'memcached (npm)',
  'memcache-client': 'memcache-client',
  memcache: 'memcache',
  raw: 'raw socket bound',
  'raw-meta': 'raw socket bound, our flags',
  'raw-promise': 'promise-per-call bound',
  'ours-cache': 'MemcachedCache (ours)',
  'pip-memcached': 'pip-services4 way (memcached + JSON)',
  'ours-traced': 'ours, a TracingChannel subscriber',
  'ours-otel': 'ours, OpenTelemetry SDK + MemcachedCacheInstrumentation',
  'ours-before': `ours before TracingChannels (${TRACING_BEFORE_REV.slice(0, 7)})`,
  'ours-rev': 'ours at the --before commit',
};

/** The raw socket bounds: prebuilt batches, replies counted (bench/raw.ts). */
const RAW_BOUNDS: readonly ClientId[] = ['raw', 'raw-meta'];

/**
 * The bounds: never a peer, never given a ratio ("(bound)" in the tables). `raw-promise` (bench/
 * promiseBound.ts), the least a client with a promise per call does, runs where the per-call cost
 * is what is measured: one call at a time and 100 in flight with 100 B values.
 */
export const BOUNDS: readonly ClientId[] = [...RAW_BOUNDS, 'raw-promise'];

/** Clients whose numbers form "the best peer". */
export const PEERS: readonly ClientId[] = [
  'memjs',
  'memcached',
  'memcache-client',
  'memcache',
  'pip-memcached',
];
export const OURS: readonly ClientId[] = [
  'ours',
  'ours-cache',
  'ours-traced',
  'ours-otel',
  'ours-before',
  'ours-rev',
];

/**
 * The clients a scenario runs: its own, plus `ours-rev` (our client built from the `--before`
 * commit) wherever ours runs against the peers, so a change is measured before/after in one run.
 */
export function clientsOf(spec: ScenarioSpec, before: string | null): readonly ClientId[] {
  if (before === null || spec.baseline !== undefined || !spec.clients.includes('ours')) return spec.clients;
  return [...spec.clients, 'ours-rev'];
}

export type ScenarioId =
  | 'seq'
  | 'p100-100b'
  | 'p100-10kb'
  | 'p100-100kb'
  | 'p100-500kb'
  | 'mget-100'
  | 'cache-json'
  | 'scale-3-servers'
  | 'scale-4-processes'
  | 'tracing'
  | 'soak';

/** One measured phase inside a scenario (a row group in the report). */
export type OpKind = 'get' | 'set' | 'mget' | 'store' | 'retrieve' | 'mixed';

export interface ScenarioSpec {
  id: ScenarioId;
  title: string;
  /** What it measures, for the README/report. */
  description: string;
  clients: readonly ClientId[];
  /** Phases in the order they run; a get phase reads what the set phase wrote. */
  ops: readonly OpKind[];
  /** Requests in flight; 1 = sequential (latency recorded per op). */
  inflight: number;
  valueBytes: number;
  /** Distinct keys the phases cycle over (all written before any phase). */
  keyCount: Record<Mode, number>;
  /** Measured operations per phase (a multi-get counts as one operation of `batch` keys). */
  count: Record<Mode, number>;
  /** Keys per multi-get. */
  batch?: number;
  /** Record per-operation latency (p50/p99). */
  latency: boolean;
  /** Rounds in --quick mode when fewer than asked (quick keeps ≥ 3 only for the headline scenarios). */
  quickRounds?: number;
  /** Ratios against this client instead of the best peer (a scenario of ours alone). */
  baseline?: ClientId;
  /** Run by the `ours-before` build as this scenario (the old worker does not know newer ids). */
  asScenario?: ScenarioId;
  /** memcached servers the keys are spread over (default 1). */
  servers?: number;
  /** Client processes running the phase at once, each with `inflight` requests (default 1). */
  processes?: number;
}

/** One memcached server the bench started. */
export interface Endpoint {
  host: string;
  port: number;
}

const PEER_CLIENTS: readonly ClientId[] = ['ours', 'memjs', 'memcached', 'memcache-client', 'memcache'];

/** What the `100 in flight, <size> values` scenarios share: every peer and both raw bounds, set then get. */
const PIPELINED = {
  clients: [...PEER_CLIENTS, ...RAW_BOUNDS],
  ops: ['set', 'get'],
  inflight: 100,
  latency: false,
  quickRounds: 1,
} satisfies Partial<ScenarioSpec>;

export const SCENARIOS: readonly ScenarioSpec[] = [
  {
    id: 'seq',
    title: 'Sequential get / set, one op in flight, 100 B',
    description:
      'One request at a time: per-request latency of the whole client stack (encode, write, parse, promise). The raw bounds here send one prebuilt request, await its reply, then the next.',
    clients: [...PEER_CLIENTS, ...BOUNDS],
    ops: ['set', 'get'],
    inflight: 1,
    valueBytes: 100,
    keyCount: { full: 1_000, quick: 500 },
    count: { full: 20_000, quick: 2_000 },
    latency: true,
    quickRounds: 3,
  },
  {
    ...PIPELINED,
    clients: [...PEER_CLIENTS, ...BOUNDS],
    id: 'p100-100b',
    title: '100 in flight, 100 B values',
    description: 'Throughput with 100 concurrent requests: per-request CPU cost of the client dominates.',
    valueBytes: 100,
    keyCount: { full: 10_000, quick: 2_000 },
    count: { full: 200_000, quick: 20_000 },
    quickRounds: 3,
  },
  {
    ...PIPELINED,
    id: 'p100-10kb',
    title: '100 in flight, 10 KB values',
    description: 'Throughput with medium values: copying and buffer handling start to matter.',
    valueBytes: 10 * 1024,
    keyCount: { full: 1_000, quick: 500 },
    count: { full: 50_000, quick: 5_000 },
  },
  {
    ...PIPELINED,
    id: 'p100-100kb',
    title: '100 in flight, 100 KB values',
    description: 'Large values: each one spans many socket reads and writes; copies and reassembly dominate.',
    valueBytes: 100 * 1024,
    keyCount: { full: 200, quick: 100 },
    count: { full: 20_000, quick: 1_000 },
  },
  {
    ...PIPELINED,
    id: 'p100-500kb',
    title: '100 in flight, 500 KB values',
    description: 'Large values: bandwidth, copies and reassembly of values spread over many socket reads.',
    valueBytes: 500 * 1024,
    keyCount: { full: 100, quick: 100 },
    count: { full: 2_000, quick: 300 },
  },
  {
    id: 'mget-100',
    title: 'Multi-get of 100 keys (100 B values), one multi-get in flight',
    description:
      "Each client's best multi-key read: ours getMany (quiet mg + mn), memcached getMulti, memcache-client get([...]), memjs 100 parallel gets. ops/s counts keys.",
    clients: [...PEER_CLIENTS, ...RAW_BOUNDS],
    ops: ['mget'],
    inflight: 1,
    valueBytes: 100,
    keyCount: { full: 10_000, quick: 2_000 },
    batch: 100,
    count: { full: 3_000, quick: 300 },
    latency: true,
    quickRounds: 1,
  },
  {
    id: 'cache-json',
    title: 'Cache component: store / retrieve a small JSON object, 100 in flight',
    description:
      'MemcachedCache.store/retrieve against the way pip-services4-node does it: the memcached package with JSON.stringify on set and JSON.parse on get.',
    clients: ['ours-cache', 'pip-memcached'],
    ops: ['store', 'retrieve'],
    inflight: 100,
    valueBytes: 0,
    keyCount: { full: 10_000, quick: 2_000 },
    count: { full: 100_000, quick: 10_000 },
    latency: false,
    quickRounds: 1,
  },
  {
    id: 'scale-3-servers',
    title: 'Scale: 3 servers, 1,000 in flight from one process, 100 B values',
    description:
      "Keys spread over three memcached servers by each client's own hashing, 1,000 requests in flight from one process. memcache-client is absent: its server list is for failover, not for spreading keys.",
    clients: ['ours', 'memjs', 'memcached', 'memcache'],
    ops: ['set', 'get'],
    inflight: 1_000,
    valueBytes: 100,
    keyCount: { full: 30_000, quick: 6_000 },
    count: { full: 400_000, quick: 40_000 },
    latency: false,
    quickRounds: 1,
    servers: 3,
  },
  {
    id: 'scale-4-processes',
    title: 'Scale: 4 client processes × 100 in flight against one server, 100 B values',
    description:
      'Four processes of the same client, each with 100 requests in flight, started together on every phase; ops/s is their sum, CPU µs/op their mean.',
    clients: PEER_CLIENTS,
    ops: ['set', 'get'],
    inflight: 100,
    valueBytes: 100,
    keyCount: { full: 10_000, quick: 2_000 },
    count: { full: 200_000, quick: 20_000 },
    latency: false,
    quickRounds: 1,
    processes: 4,
  },
  {
    id: 'tracing',
    title: 'Tracing overhead: 100 in flight, 100 B values',
    description:
      'Our client with nobody subscribed, with a TracingChannel subscriber (empty handlers), with the OpenTelemetry SDK (batch span processor, a meter reader) and MemcachedCacheInstrumentation, and built from the commit before TracingChannels existed. Ratios are against ours with nobody subscribed.',
    clients: ['ours', 'ours-traced', 'ours-otel', 'ours-before'],
    ops: ['set', 'get'],
    inflight: 100,
    valueBytes: 100,
    keyCount: { full: 10_000, quick: 2_000 },
    count: { full: 200_000, quick: 20_000 },
    latency: false,
    quickRounds: 3,
    baseline: 'ours',
    asScenario: 'p100-100b',
  },
];

export const SOAK: ScenarioSpec = {
  id: 'soak',
  title: 'RSS growth of our client over many operations (mixed get/set, 100 in flight, 100 B)',
  description: 'Leak check: RSS and heap after a forced GC, at a baseline after warm-up and at the end.',
  clients: ['ours'],
  ops: ['mixed'],
  inflight: 100,
  valueBytes: 100,
  keyCount: { full: 10_000, quick: 10_000 },
  count: { full: 1_000_000, quick: 100_000 },
  latency: false,
};

/**
 * Time limits per phase, seconds. A phase ends after `count` operations or when `soft` runs out
 * (no new operation starts; those in flight finish and are timed). A client whose in-flight
 * operations are not all answered by `hard` is cut off: the phase is reported with what completed
 * and flagged, and the child measures nothing more.
 */
export const LIMITS: Record<Mode, { soft: number; warm: number; hard: number; prefill: number }> = {
  full: { soft: 5, warm: 1.5, hard: 15, prefill: 30 },
  quick: { soft: 0.12, warm: 0.04, hard: 0.8, prefill: 5 },
};

export function scenarioById(id: ScenarioId): ScenarioSpec {
  if (id === 'soak') return SOAK;
  const found = SCENARIOS.find((s) => s.id === id);
  if (!found) throw new Error(`unknown scenario ${id}`);
  return found;
}

/** What the parent hands a child (as JSON in argv). */
export interface Task {
  scenario: ScenarioId;
  client: ClientId;
  /** The first server (what builds before the scale scenarios read). */
  host: string;
  port: number;
  /** Every server of the scenario (defaults to host:port). */
  servers?: Endpoint[];
  /**
   * Wait for the parent's go before each measured phase and report its end (IPC), so the parent
   * can read the server's CPU over exactly the measured phases and start several processes together.
   */
  barrier?: boolean;
  /** Which of the scenario's processes this is (keys differ per process). */
  process?: number;
  mode: Mode;
  /** Distinguishes key spaces of runs so a get can never read another run's value. */
  runTag: string;
  /** Measure only these phases (profiling); warm-up still writes every key. */
  only?: OpKind[];
}

export interface PhaseResult {
  op: OpKind;
  /** Operations completed in the measured window (multi-get: keys). */
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** Per-operation latency in µs (sequential and multi-get only). */
  p50?: number;
  p99?: number;
  /** Peak RSS during the phase, MB. */
  rssMb: number;
  /** Event-loop utilisation during the phase, 0..1. */
  elu: number;
  /** CPU time (user + system) of the child process per operation, µs. */
  cpuUsPerOp: number;
  /** CPU time of the memcached server(s) over the phase per operation, µs (set by the parent). */
  serverCpuUsPerOp?: number;
  /** Client processes summed into this result (scale scenario). */
  processes?: number;
  /** Gets that missed or returned a value of the wrong size, failed operations. */
  errors: number;
  /** Set when the client did not answer everything in flight within the hard limit. */
  cutOff?: string;
  /** True when these numbers come from the warm-up (the client was cut off there). */
  fromWarmup?: boolean;
}

export interface SoakResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  baselineRssMb: number;
  finalRssMb: number;
  rssGrowthMb: number;
  baselineHeapMb: number;
  finalHeapMb: number;
  heapGrowthMb: number;
  /** RSS change from the middle checkpoint to the end: growth that lasts, not the JIT's or V8's warm-up. */
  secondHalfRssMb: number;
  secondHalfHeapMb: number;
  /** Memory after a forced GC at every 10 % of the operations (the first: the baseline). */
  samples: SoakSample[];
}

export interface SoakSample {
  ops: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  /** V8's young generation (new space) as reserved: it grows with the allocation rate. */
  newSpaceMb: number;
  externalMb: number;
  /** The baseline only: mixed operations run before it, until the young generation stopped growing. */
  warmUpOps?: number;
}

export interface WorkerResult {
  scenario: ScenarioId;
  client: ClientId;
  phases: PhaseResult[];
  soak?: SoakResult;
  /** RSS right after the client was created and connected, MB. */
  startRssMb: number;
}
