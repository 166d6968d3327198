// One strategy of the hot-key scenario, in a child process of its own: `readers` concurrent
// readers of one key for `durationMs`, while the data behind it changes every `changeEveryMs`
// (the writer then invalidates or deletes the key) and a load from the "database" takes
// `loaderMs`. Prints a JSON `HotKeyResult`: loader calls, reads, latency percentiles.
//
// Strategies:
// - `swr`: MemcachedCache.getOrStore, the writer calls invalidate() (stale-while-revalidate);
// - `lease`: MemcachedCache.getOrStore, the writer calls remove() (one loader per miss, the
//   other readers wait for its value);
// - `aside-memjs`, `aside-memcached`, `aside-memcache`: the cache-aside a memjs, `memcached` or
//   `memcache` user writes by hand (get; on a miss load and set), the writer deletes the key.

export type HotKeyStrategy = 'swr' | 'lease' | 'aside-memjs' | 'aside-memcached' | 'aside-memcache';

export interface HotKeyResult {
  strategy: HotKeyStrategy;
  reads: number;
  errors: number;
  loads: number;
  changes: number;
  /** Reads that took at least 80 % of a load: they waited for one (theirs or another's). */
  waited: number;
  p50: number;
  p99: number;
  max: number;
}

interface Strategy {
  read(load: () => Promise<string>): Promise<string | null>;
  changed(): Promise<unknown>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TTL_MS = 60_000;

async function ours(host: string, port: number, key: string, stale: boolean): Promise<Strategy> {
  const { ConfigParams, MemcachedCache } = await import('../../src/index.js');
  const cache = new MemcachedCache<string>();
  cache.configure(ConfigParams.fromTuples('connection.host', host, 'connection.port', port));
  await cache.open(null);
  return {
    read: (load) => cache.getOrStore(null, key, TTL_MS, load),
    changed: () => (stale ? cache.invalidate(null, key) : cache.remove(null, key)),
    close: () => cache.close(null),
  };
}

async function asideMemjs(host: string, port: number, key: string): Promise<Strategy> {
  const { default: memjs } = await import('memjs');
  const client = memjs.Client.create(`${host}:${port}`, { logger: { log: () => {} } });
  return {
    read: async (load) => {
      const { value } = await client.get(key);
      if (value !== null) return value.toString();
      const loaded = await load();
      await client.set(key, loaded, { expires: TTL_MS / 1000 });
      return loaded;
    },
    changed: () => client.delete(key),
    close: async () => client.close(),
  };
}

async function asideMemcached(host: string, port: number, key: string): Promise<Strategy> {
  const { default: Memcached } = await import('memcached');
  const client = new Memcached(`${host}:${port}`);
  const get = () =>
    new Promise<string | undefined>((resolve, reject) =>
      client.get(key, (error, data) => (error ? reject(error) : resolve(data as string | undefined))),
    );
  const set = (value: string) =>
    new Promise<void>((resolve, reject) =>
      client.set(key, value, TTL_MS / 1000, (error) => (error ? reject(error) : resolve())),
    );
  return {
    read: async (load) => {
      const value = await get();
      if (value !== undefined && value !== null) return value;
      const loaded = await load();
      await set(loaded);
      return loaded;
    },
    changed: () => new Promise<void>((resolve) => client.del(key, () => resolve())),
    close: async () => client.end(),
  };
}

async function asideMemcache(host: string, port: number, key: string): Promise<Strategy> {
  const { Memcache } = await import('memcache');
  const client = new Memcache({ nodes: [`${host}:${port}`] });
  await client.connect();
  return {
    read: async (load) => {
      const value = await client.get(key);
      if (value !== undefined) return value;
      const loaded = await load();
      await client.set(key, loaded, TTL_MS / 1000);
      return loaded;
    },
    changed: () => client.delete(key),
    close: async () => client.disconnect(),
  };
}

async function main(): Promise<void> {
  const [strategy, host, portText, key, readersText, durationText, changeText, loaderText] =
    process.argv.slice(2) as [HotKeyStrategy, string, string, string, string, string, string, string];
  const [port, readers, durationMs, changeEveryMs, loaderMs] = [
    portText,
    readersText,
    durationText,
    changeText,
    loaderText,
  ].map(Number) as [number, number, number, number, number];
  const chosen =
    strategy === 'swr' || strategy === 'lease'
      ? await ours(host, port, key, strategy === 'swr')
      : strategy === 'aside-memjs'
        ? await asideMemjs(host, port, key)
        : strategy === 'aside-memcache'
          ? await asideMemcache(host, port, key)
          : await asideMemcached(host, port, key);
  let loads = 0;
  let version = 0;
  const load = async () => {
    loads++;
    await sleep(loaderMs);
    return `value-${++version}`;
  };
  await chosen.read(load); // the first value exists before the readers start
  const latencies: number[] = [];
  let errors = 0;
  let changes = 0;
  const stopAt = performance.now() + durationMs;
  const reader = async () => {
    while (performance.now() < stopAt) {
      const started = performance.now();
      try {
        if ((await chosen.read(load)) === null) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  const writer = async () => {
    for (let next = performance.now() + changeEveryMs; next < stopAt; next += changeEveryMs) {
      await sleep(Math.max(0, next - performance.now()));
      await chosen.changed();
      changes++;
    }
  };
  await Promise.all([writer(), ...Array.from({ length: readers }, reader)]);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const result: HotKeyResult = {
    strategy,
    reads: latencies.length,
    errors,
    loads: loads - 1,
    changes,
    waited: latencies.filter((ms) => ms >= 0.8 * loaderMs).length,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? 0,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await chosen.close();
  process.exit(0);
}

await main();
