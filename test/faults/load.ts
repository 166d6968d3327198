// A steady, verifying load on a MemcachedCache for the fault suite. Every value encodes its key and
// a version (`<key>#<version>`); every version ever sent for a key is remembered (a set that timed
// out may still have been applied), so a read is correct only if it returns null or one of them.
import { performance } from 'node:perf_hooks';
import type { MemcachedCache } from '../../src/index.js';

export interface OpRecord {
  kind: 'get' | 'set';
  key: string;
  /** The server the key maps to when every server is alive. */
  home: string;
  /** performance.now() at the call. */
  start: number;
  /** ms until the promise settled. */
  ms: number;
  ok: boolean;
  code?: string;
}

export interface LoadOptions {
  keys: number;
  workers: number;
  /** Pause between two ops of one worker (ms); keeps the event loop responsive for honest timings. */
  pauseMs: number;
  prefix: string;
}

export class VerifyingLoad {
  readonly records: OpRecord[] = [];
  /** Reads that returned something never stored for that key. Must stay empty. */
  readonly violations: string[] = [];
  readonly keys: string[];
  readonly home = new Map<string, string>();
  private readonly issued = new Map<string, Set<number>>();
  private readonly nextVersion = new Map<string, number>();
  private running = false;
  private workers: Promise<void>[] = [];
  private seed = 0x2545f491;

  constructor(
    private readonly cache: MemcachedCache,
    private readonly options: LoadOptions,
  ) {
    this.keys = Array.from({ length: options.keys }, (_, i) => `${options.prefix}:${i}`);
    const client = cache.getClient();
    for (const key of this.keys) {
      this.home.set(key, client.serverFor(key));
      this.issued.set(key, new Set());
      this.nextVersion.set(key, 0);
    }
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.worker());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** `n` ops started at once (not awaited one by one); resolves with their records. */
  burst(n: number): Promise<OpRecord[]> {
    return Promise.all(Array.from({ length: n }, () => this.one()));
  }

  /** Deterministic xorshift, so a failing run can be reasoned about. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 0x1_0000_0000;
  }

  private async worker(): Promise<void> {
    while (this.running) {
      await this.one();
      if (this.options.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }

  /** One op; resolves once it settled (never rejects). */
  async one(): Promise<OpRecord> {
    const key = this.keys[Math.floor(this.random() * this.keys.length)]!;
    const set = this.random() < 0.5;
    const record: OpRecord = {
      kind: set ? 'set' : 'get',
      key,
      home: this.home.get(key)!,
      start: performance.now(),
      ms: 0,
      ok: false,
    };
    try {
      if (set) {
        const version = this.nextVersion.get(key)! + 1;
        this.nextVersion.set(key, version);
        this.issued.get(key)!.add(version);
        await this.cache.store('load', key, `${key}#${version}`, 60_000);
      } else {
        const value: unknown = await this.cache.retrieve('load', key);
        if (value !== null) this.verify(key, value);
      }
      record.ok = true;
    } catch (error) {
      record.code = (error as { code?: string }).code ?? String(error);
    }
    record.ms = performance.now() - record.start;
    this.records.push(record);
    return record;
  }

  private verify(key: string, value: unknown): void {
    if (typeof value !== 'string' || !value.startsWith(`${key}#`)) {
      this.violations.push(`${key} read ${JSON.stringify(value)}`);
      return;
    }
    const version = Number(value.slice(key.length + 1));
    if (!this.issued.get(key)!.has(version))
      this.violations.push(`${key} read version ${version}, never stored`);
  }
}

export interface Summary {
  ops: number;
  maxMs: number;
  p99Ms: number;
  /** Success rate of ops whose home server was not faulted. */
  healthyOps: number;
  healthyRate: number;
  /** Success rate of ops whose home server was faulted (for the record; may be low). */
  faultedOps: number;
  faultedRate: number;
  errors: Record<string, number>;
}

export function summarize(records: readonly OpRecord[], faulted: ReadonlySet<string>): Summary {
  const times = records.map((r) => r.ms).sort((a, b) => a - b);
  const healthy = records.filter((r) => !faulted.has(r.home));
  const bad = records.filter((r) => faulted.has(r.home));
  const rate = (list: readonly OpRecord[]): number =>
    list.length === 0 ? 1 : list.filter((r) => r.ok).length / list.length;
  const errors: Record<string, number> = {};
  for (const r of records) if (!r.ok) errors[r.code!] = (errors[r.code!] ?? 0) + 1;
  return {
    ops: records.length,
    maxMs: times.at(-1) ?? 0,
    p99Ms: times[Math.floor(times.length * 0.99)] ?? 0,
    healthyOps: healthy.length,
    healthyRate: rate(healthy),
    faultedOps: bad.length,
    faultedRate: rate(bad),
    errors,
  };
}

export function formatSummary(s: Summary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return (
    `ops ${s.ops}, settle max ${s.maxMs.toFixed(1)} ms (p99 ${s.p99Ms.toFixed(1)} ms), ` +
    `healthy-home ops ${s.healthyOps} ok ${pct(s.healthyRate)}, faulted-home ops ${s.faultedOps} ok ${pct(s.faultedRate)}, ` +
    `errors ${JSON.stringify(s.errors)}`
  );
}
