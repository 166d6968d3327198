// Soak test: a long run of mixed MemcachedCache operations against a real memcached, watching
// memory, handles and errors.
//
//   npm run soak                              # 1,000,000 ops, 100 in flight, own memcached
//   npm run soak -- --ops 200000 --inflight 50
//   npm run soak -- --server 127.0.0.1:11211  # use a running server instead of starting one
//   node --expose-gc --import tsx scripts/soak.ts
//
// Mix: 50 % store, 40 % retrieve, 5 % remove, 5 % retrieveMany (10 keys) over 20,000 keys;
// values are strings, objects and Buffers of 10 B – 4 KB that encode their key, so a read of a
// wrong value is detected. RSS is sampled every 100 ms; "start" is taken after a warm-up of
// 50,000 ops (--warmup) and a GC — before that the allocator and V8's young generation are still
// growing to their working size, which is not a leak; runs much shorter than the default are
// noisy for the same reason — "end" after close() and a GC. Exits non-zero when RSS grew by
// ≥ --max-rss-growth-mb (default 10), when any read returned a wrong value, when any op failed,
// or when a socket/timer is still open after close().
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigParams, MemcachedCache } from '../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../test/support/index.js';

interface Args {
  ops: number;
  inflight: number;
  keys: number;
  server: string | null;
  maxRssGrowthMb: number;
  warmup: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    ops: 1_000_000,
    inflight: 100,
    keys: 20_000,
    server: null,
    maxRssGrowthMb: 10,
    warmup: 50_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    const number = (): number => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${value}`);
      i++;
      return n;
    };
    switch (name) {
      case '--ops':
        args.ops = Math.floor(number());
        break;
      case '--inflight':
        args.inflight = Math.max(1, Math.floor(number()));
        break;
      case '--keys':
        args.keys = Math.max(1, Math.floor(number()));
        break;
      case '--warmup':
        args.warmup = Math.floor(number());
        break;
      case '--max-rss-growth-mb':
        args.maxRssGrowthMb = number();
        break;
      case '--server':
        args.server = value ?? null;
        i++;
        break;
      case '--help':
        console.log(
          'usage: soak [--ops N] [--inflight N] [--keys N] [--warmup N] [--server host:port] [--max-rss-growth-mb N]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${name}`);
    }
  }
  return args;
}

/** `global.gc`, or the same function obtained at run time when node was started without --expose-gc. */
function getGc(): { gc: () => void; how: string } {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return { gc: existing, how: '--expose-gc' };
  setFlagsFromString('--expose-gc');
  return { gc: runInNewContext('gc') as () => void, how: 'v8.setFlagsFromString' };
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

let seed = 0x12345678;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x1_0000_0000;
}

function valueFor(key: string, n: number): unknown {
  const size = 10 + Math.floor(random() * random() * 4096);
  switch (n % 3) {
    case 0:
      return `${key}|${'s'.repeat(size)}`;
    case 1:
      return { key, n, pad: 'o'.repeat(size), list: [1, 2, 3] };
    default:
      return Buffer.concat([Buffer.from(`${key}|`), Buffer.alloc(size, n & 0xff)]);
  }
}

function keyOf(value: unknown): string | null {
  if (typeof value === 'string') return value.slice(0, value.indexOf('|'));
  if (Buffer.isBuffer(value)) return value.subarray(0, value.indexOf(0x7c)).toString();
  if (value !== null && typeof value === 'object') return String((value as { key?: unknown }).key);
  return null;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { gc, how } = getGc();
  let server: MemcachedProcess | null = null;
  let host = '127.0.0.1';
  let port = 11211;
  if (args.server) {
    const colon = args.server.lastIndexOf(':');
    host = args.server.slice(0, colon);
    port = Number(args.server.slice(colon + 1));
  } else {
    server = await startMemcached({ memoryMb: 256, threads: 2 });
    host = server.host;
    port = server.port;
  }
  // Let the readiness probe's socket finish closing before taking the baseline.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const handlesBefore = process.getActiveResourcesInfo();
  const cache = new MemcachedCache();
  cache.configure(
    ConfigParams.fromTuples(
      'connection.host',
      host,
      'connection.port',
      port,
      'options.request_timeout',
      5000,
      'options.max_value',
      1_048_576,
    ),
  );
  await cache.open('soak');

  const keys = Array.from({ length: args.keys }, (_, i) => `soak:${i}`);
  const errors = new Map<string, number>();
  let wrongValues = 0;
  let issued = 0;
  let done = 0;
  const counts = { store: 0, retrieve: 0, remove: 0, retrieveMany: 0, hits: 0 };

  const check = (key: string, value: unknown): void => {
    if (value === null) return;
    if (keyOf(value) !== key) wrongValues++;
  };

  const one = async (): Promise<void> => {
    const r = random();
    const key = keys[Math.floor(random() * keys.length)]!;
    try {
      if (r < 0.5) {
        counts.store++;
        await cache.store('soak', key, valueFor(key, issued), 60_000);
      } else if (r < 0.9) {
        counts.retrieve++;
        const value = await cache.retrieve('soak', key);
        if (value !== null) counts.hits++;
        check(key, value);
      } else if (r < 0.95) {
        counts.remove++;
        check(key, await cache.remove('soak', key));
      } else {
        counts.retrieveMany++;
        const batch = Array.from({ length: 10 }, () => keys[Math.floor(random() * keys.length)]!);
        const found = await cache.retrieveMany('soak', batch);
        for (const [k, v] of found) check(k, v);
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      errors.set(code, (errors.get(code) ?? 0) + 1);
    }
    done++;
  };

  const run = async (total: number): Promise<void> => {
    const target = issued + total;
    const worker = async (): Promise<void> => {
      while (issued < target) {
        issued++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: args.inflight }, worker));
  };

  // Warm-up: JIT, pools, slab allocation in the server; then the baseline.
  await run(Math.min(args.warmup, args.ops));
  gc();
  const rssStart = process.memoryUsage().rss;
  const heapStart = process.memoryUsage().heapUsed;
  let rssPeak = rssStart;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 100);
  const started = performance.now();
  let lastReport = started;
  let lastDone = done;
  const progress = setInterval(() => {
    const now = performance.now();
    const rate = ((done - lastDone) * 1000) / (now - lastReport);
    lastReport = now;
    lastDone = done;
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    console.log(
      `[soak] ${done.toLocaleString('en-US')}/${args.ops.toLocaleString('en-US')} ops, ${Math.round(rate).toLocaleString('en-US')} ops/s, ` +
        `rss ${mb(process.memoryUsage().rss)}, heap ${mb(process.memoryUsage().heapUsed)}, errors ${errorCount}, wrong values ${wrongValues}`,
    );
  }, 2000);

  await run(args.ops - issued);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const rssLoaded = process.memoryUsage().rss;
  await cache.close('soak');
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const rssEnd = process.memoryUsage().rss;
  const heapEnd = process.memoryUsage().heapUsed;
  const handlesAfter = process.getActiveResourcesInfo();
  if (server) await stopAllMemcached();

  const growth = rssEnd - rssStart;
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const leftover = handlesAfter.filter((h) => h !== 'TTYWrap' && h !== 'PipeWrap');
  const leftoverBefore = handlesBefore.filter((h) => h !== 'TTYWrap' && h !== 'PipeWrap');
  const report = {
    ops: done,
    inflight: args.inflight,
    seconds: Number(seconds.toFixed(1)),
    opsPerSecond: Math.round((done - Math.min(args.warmup, args.ops)) / seconds),
    mix: counts,
    errors: Object.fromEntries(errors),
    wrongValues,
    gc: how,
    rss: {
      start: mb(rssStart),
      peak: mb(rssPeak),
      loaded: mb(rssLoaded),
      end: mb(rssEnd),
      growth: mb(growth),
    },
    heapUsed: { start: mb(heapStart), end: mb(heapEnd) },
    handles: { before: handlesBefore, afterClose: handlesAfter },
  };
  console.log(`[soak] result ${JSON.stringify(report, null, 2)}`);
  const problems: string[] = [];
  if (growth >= args.maxRssGrowthMb * MB)
    problems.push(`RSS grew by ${mb(growth)} (limit ${args.maxRssGrowthMb} MB)`);
  if (wrongValues > 0) problems.push(`${wrongValues} reads returned a value of another key`);
  if (errorCount > 0) problems.push(`${errorCount} ops failed`);
  if (leftover.length > leftoverBefore.length)
    problems.push(`handles left open after close(): ${leftover.join(', ')}`);
  if (problems.length > 0) {
    console.error(`[soak] FAIL: ${problems.join('; ')}`);
    return 1;
  }
  console.log('[soak] OK');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error) => {
    console.error('[soak] crashed:', error);
    await stopAllMemcached();
    process.exitCode = 2;
  },
);
