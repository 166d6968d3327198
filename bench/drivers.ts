// One adapter per client. Each loads its library lazily, so a child process only ever loads the
// client it measures (fair RSS, no JIT cross-talk). Every library runs with its default options
// except where noted; values are Buffers in and Buffers out for all of them.

import type { ClientId, Endpoint } from './scenarios.js';

/** Per-operation adapter; results are checked by `length`/`hits` so misses and wrong values count as errors. */
export interface Driver {
  get(key: string): Promise<unknown>;
  /** Bytes of the value a `get` resolved, or -1 for a miss. */
  length(result: unknown): number;
  set(key: string, value: Buffer): Promise<unknown>;
  /** Resolves the number of hits. */
  mget(keys: string[]): Promise<number>;
  close(): Promise<void>;
}

/** Cache-component adapter (JSON values). */
export interface CacheDriver {
  store(key: string, value: unknown): Promise<unknown>;
  retrieve(key: string): Promise<unknown>;
  close(): Promise<void>;
}

const CACHE_TTL_MS = 60_000;

export async function createDriver(client: ClientId, servers: readonly Endpoint[]): Promise<Driver> {
  switch (client) {
    case 'ours':
      return ours(servers);
    case 'ours-traced':
      return oursTraced(servers);
    case 'ours-otel':
      return oursOtel(servers);
    case 'memjs':
      return memjs(servers);
    case 'memcached':
      return memcachedNpm(servers);
    case 'memcache-client':
      return memcacheClient(servers);
    case 'memcache':
      return memcache(servers);
    case 'raw-promise':
      return promiseBound(servers);
    default:
      throw new Error(`${client} has no per-operation driver`);
  }
}

const address = (server: Endpoint): string => `${server.host}:${server.port}`;

export async function createCacheDriver(
  client: ClientId,
  servers: readonly Endpoint[],
): Promise<CacheDriver> {
  const { host, port } = servers[0]!;
  switch (client) {
    case 'ours-cache':
      return oursCache(host, port);
    case 'pip-memcached':
      return pipMemcached(host, port);
    default:
      throw new Error(`${client} has no cache driver`);
  }
}

async function ours(servers: readonly Endpoint[]): Promise<Driver> {
  const { MemcachedClient } = await import('../src/index.js');
  const client = new MemcachedClient({
    servers: servers.map((server) => ({ id: address(server), host: server.host, port: server.port })),
  });
  await client.connect();
  return {
    get: (key) => client.get(key),
    length: (item) => (item === null ? -1 : (item as { value: Buffer }).value.length),
    set: (key, value) => client.set(key, value),
    mget: async (keys) => (await client.getMany(keys)).size,
    close: async () => client.close(),
  };
}

/** The promise-per-call bound (bench/promiseBound.ts): one socket to the first server, no getMany. */
async function promiseBound(servers: readonly Endpoint[]): Promise<Driver> {
  const { PromiseBound } = await import('./promiseBound.js');
  const bound = new PromiseBound();
  await bound.connect(servers[0]!.host, servers[0]!.port);
  return {
    get: (key) => bound.get(key),
    length: (value) => (value === null ? -1 : (value as Buffer).length),
    set: (key, value) => bound.set(key, value),
    mget: () => Promise.reject(new Error('the promise bound has no multi-get')),
    close: async () => bound.close(),
  };
}

/** Ours with a TracingChannel subscriber on both channels whose handlers do nothing. */
async function oursTraced(servers: readonly Endpoint[]): Promise<Driver> {
  const { tracingChannel } = await import('node:diagnostics_channel');
  const nothing = () => {};
  const handlers = { start: nothing, end: nothing, asyncStart: nothing, asyncEnd: nothing, error: nothing };
  tracingChannel('memcached-cache:command').subscribe(handlers);
  tracingChannel('memcached-cache:connect').subscribe(handlers);
  return ours(servers);
}

/**
 * Ours under the OpenTelemetry SDK as production runs it: a batch span processor (to an exporter
 * that drops the spans), a meter provider with a reader, and MemcachedCacheInstrumentation.
 */
async function oursOtel(servers: readonly Endpoint[]): Promise<Driver> {
  const { context, trace, metrics } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { AggregationTemporality, MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { MemcachedCacheInstrumentation } = await import('../src/otel/index.js');
  class DroppingReader extends MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    }
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  const exporter = {
    export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => {},
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const meterProvider = new MeterProvider({ readers: [new DroppingReader()] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  registerInstrumentations({ instrumentations: [new MemcachedCacheInstrumentation()] });
  return ours(servers);
}

async function memjs(servers: readonly Endpoint[]): Promise<Driver> {
  const { default: memjsLib } = await import('memjs');
  const client = memjsLib.Client.create(servers.map(address).join(','), { logger: { log: () => {} } });
  const opts = { expires: 0 };
  return {
    get: (key) => client.get(key),
    length: (result) => {
      const value = (result as { value: Buffer | null }).value;
      return value === null ? -1 : value.length;
    },
    set: (key, value) => client.set(key, value, opts),
    // memjs has no multi-get: 100 parallel gets (it pipelines them on its one socket).
    mget: async (keys) => {
      const results = await Promise.all(keys.map((key) => client.get(key)));
      let hits = 0;
      for (const r of results) if (r.value !== null) hits++;
      return hits;
    },
    close: async () => client.close(),
  };
}

async function memcachedNpm(servers: readonly Endpoint[]): Promise<Driver> {
  const { default: Memcached } = await import('memcached');
  const client = new Memcached(servers.map(address));
  return {
    get: (key) =>
      new Promise((resolve, reject) =>
        client.get(key, (error, data) => (error ? reject(error) : resolve(data))),
      ),
    length: (data) => (data === undefined || data === null || data === false ? -1 : (data as Buffer).length),
    set: (key, value) =>
      new Promise((resolve, reject) =>
        client.set(key, value, 0, (error) => (error ? reject(error) : resolve(true))),
      ),
    mget: (keys) =>
      new Promise((resolve, reject) =>
        client.getMulti(keys, (error, data) =>
          error ? reject(error) : resolve(Object.keys(data ?? {}).length),
        ),
      ),
    close: async () => client.end(),
  };
}

async function memcacheClient(servers: readonly Endpoint[]): Promise<Driver> {
  // Its `servers` list is for redundancy (failover), not for spreading keys: one server only.
  if (servers.length !== 1) throw new Error('memcache-client does not shard keys over servers');
  const { MemcacheClient } = await import('memcache-client');
  const client = new MemcacheClient({ server: address(servers[0]!) });
  const opts = { lifetime: 0 };
  return {
    get: (key) => client.get<Buffer>(key),
    length: (result) => {
      const value = (result as { value: Buffer } | undefined)?.value;
      return value === undefined ? -1 : value.length;
    },
    set: (key, value) => client.set(key, value, opts),
    // get() accepts an array of keys: one `get k1 k2 …` command (README "get multiple keys").
    mget: async (keys) => Object.keys((await client.get<Record<string, unknown>>(keys)) ?? {}).length,
    close: async () => client.shutdown(),
  };
}

/**
 * memcache 1.10 (text protocol) takes and returns strings only, decoded as UTF-8: it is handed an
 * ASCII string of the same length as the bytes, built once per value outside the measured calls,
 * and its results are checked by string length.
 */
async function memcache(servers: readonly Endpoint[]): Promise<Driver> {
  const { Memcache } = await import('memcache');
  const client = new Memcache({ nodes: servers.map(address) });
  await client.connect();
  let lastValue: Buffer | null = null;
  let lastText = '';
  const text = (value: Buffer): string => {
    if (value !== lastValue) {
      lastValue = value;
      lastText = Buffer.from(value.map((byte) => 0x21 + (byte % 94))).toString('latin1');
    }
    return lastText;
  };
  return {
    get: (key) => client.get(key),
    length: (result) => (typeof result === 'string' ? result.length : -1),
    set: (key, value) => client.set(key, text(value), 0),
    // gets(keys): one `get k1 k2 …` per server (its multi-key read).
    mget: async (keys) => (await client.gets(keys)).size,
    close: async () => client.disconnect(),
  };
}

async function oursCache(host: string, port: number): Promise<CacheDriver> {
  const { ConfigParams, MemcachedCache } = await import('../src/index.js');
  const cache = new MemcachedCache();
  cache.configure(ConfigParams.fromTuples('connection.host', host, 'connection.port', port));
  await cache.open('bench');
  return {
    store: (key, value) => cache.store('bench', key, value, CACHE_TTL_MS),
    retrieve: (key) => cache.retrieve('bench', key),
    close: () => cache.close('bench'),
  };
}

/** What pip-services4-node's MemcachedCache does: the memcached package, its options, JSON by hand. */
async function pipMemcached(host: string, port: number): Promise<CacheDriver> {
  const { default: Memcached } = await import('memcached');
  const client = new Memcached([`${host}:${port}`], {
    maxKeySize: 250,
    maxExpiration: 2_592_000,
    maxValue: 1_048_576,
    poolSize: 5,
    reconnect: 10_000,
    timeout: 5_000,
    retries: 5,
    failures: 5,
    retry: 30_000,
    remove: false,
    idle: 5_000,
  });
  return {
    store: (key, value) =>
      new Promise((resolve, reject) =>
        client.set(key, JSON.stringify(value), CACHE_TTL_MS / 1000, (error, result) =>
          error ? reject(error) : resolve(result),
        ),
      ),
    retrieve: (key) =>
      new Promise((resolve, reject) =>
        client.get(key, (error, result) =>
          error ? reject(error) : resolve(result ? JSON.parse(result) : result),
        ),
      ),
    close: async () => client.end(),
  };
}
