import type { MemcachedClient } from '../client/MemcachedClient.js';
import { type Command, Exit } from './command.js';
import { type Io, openClient, UsageError, wholeNumber } from './common.js';
import { writeJson } from './json.js';

const BAR_WIDTH = 30;

/** Redraws a progress bar on stderr when it is a terminal; otherwise prints each phase once done. */
class Progress {
  private lastDrawn = -1;
  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    const tty = (this.io.stderr as NodeJS.WriteStream).isTTY === true;
    const percent = Math.floor((done / this.total) * 100);
    if (percent === this.lastDrawn || (!tty && done < this.total)) return;
    this.lastDrawn = percent;
    const filled = Math.round((done / this.total) * BAR_WIDTH);
    const bar = `${this.label.padEnd(4)}[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${this.total}`;
    this.io.stderr.write(tty ? `\r${bar}${done >= this.total ? '\n' : ''}` : `${bar}\n`);
  }
}

interface PhaseResult {
  opsPerSecond: number;
  p50: number;
  p99: number;
}

async function phase(
  io: Io,
  label: string,
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<PhaseResult> {
  const progress = new Progress(io, label, ops);
  const latencies = new Float64Array(ops);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < ops) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
      done++;
      if ((done & 127) === 0 || done === ops) progress.update(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  return {
    opsPerSecond: Math.round(ops / seconds),
    p50: latencies[Math.floor(ops * 0.5)] ?? 0,
    p99: latencies[Math.min(ops - 1, Math.floor(ops * 0.99))] ?? 0,
  };
}

export const bench: Command = {
  name: 'bench',
  summary: 'quick set/get benchmark',
  usage: 'bench [--ops N] [--concurrency N] [--size bytes]',
  help: `Sets --ops keys (TTL 60 s, prefix memcached-cache:bench:), then gets them, with --concurrency
requests in flight. Progress goes to stderr; one result line to stdout:
  set <ops/s> ops/s p50 <ms> p99 <ms> | get <ops/s> ops/s p50 <ms> p99 <ms> hits <n>/<ops>
With --json: {"ops","set":{"opsPerSecond","p50Ms","p99Ms"},"get":{…,"hits"}}.`,
  options: {
    ops: { type: 'string', short: 'n' },
    concurrency: { type: 'string', short: 'c' },
    size: { type: 'string' },
  },
  optionsHelp: `  -n, --ops <N>                 operations per phase (default 10000)
  -c, --concurrency <N>         requests in flight (default 50)
      --size <bytes>            value size (default 100)`,
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('bench takes no arguments', 'bench');
    const ops = wholeNumber(values.ops as string | undefined, 'ops', 10_000, 1);
    const concurrency = wholeNumber(values.concurrency as string | undefined, 'concurrency', 50, 1);
    const size = wholeNumber(values.size as string | undefined, 'size', 100, 0);
    const client: MemcachedClient = await openClient(values);
    try {
      await client.connect();
      const value = Buffer.alloc(size, 'x');
      const key = (i: number): string => `memcached-cache:bench:${i}`;
      const setResult = await phase(io, 'set', ops, concurrency, (i) =>
        client.set(key(i), value, { ttl: 60 }),
      );
      let hits = 0;
      const getResult = await phase(io, 'get', ops, concurrency, async (i) => {
        if ((await client.get(key(i))) !== null) hits++;
      });
      if (values.json) {
        const json = (r: PhaseResult) => ({ opsPerSecond: r.opsPerSecond, p50Ms: r.p50, p99Ms: r.p99 });
        writeJson(io, { ops, set: json(setResult), get: { ...json(getResult), hits } });
        return Exit.Ok;
      }
      const ms = (x: number): string => x.toFixed(3);
      io.stdout.write(
        `set ${setResult.opsPerSecond} ops/s p50 ${ms(setResult.p50)} ms p99 ${ms(setResult.p99)} ms | ` +
          `get ${getResult.opsPerSecond} ops/s p50 ${ms(getResult.p50)} ms p99 ${ms(getResult.p99)} ms hits ${hits}/${ops}\n`,
      );
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
