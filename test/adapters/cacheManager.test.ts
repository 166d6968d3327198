// cache-manager 7 over the Keyv store: `cache.wrap` coalesces callers in one process only, so two
// processes on a cold key load twice; `singleFlight` loads once across both, and writes what
// cache-manager reads back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { KeyvMemcachedStore, singleFlight } from '../../src/adapters/KeyvMemcachedStore.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const worker = new URL('./fixtures/cacheManagerWorker.ts', import.meta.url).pathname;
const NAMESPACE = 'cm-test';

/**
 * Starts `processes` workers, releases them together once all are ready, returns their results.
 * Tells every worker `release` once every one has reported its first miss (`wrap` mode waits for it).
 */
async function race(args: string[], processes: number): Promise<unknown[][]> {
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const exits = children.map(async (child) => {
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`worker exited with ${code}`);
  });
  const said = (child: ChildProcess, wanted: string) =>
    new Promise<void>((resolve) => child.on('message', (message) => message === wanted && resolve()));
  const results = children.map(
    (child) =>
      new Promise<unknown[]>((resolve) =>
        child.on('message', (message: { results?: unknown[] }) => {
          if (message.results !== undefined) resolve(message.results);
        }),
      ),
  );
  const missed = Promise.all(children.map((child) => said(child, 'missed')));
  await Promise.all(children.map((child) => said(child, 'ready')));
  for (const child of children) child.send('go');
  void missed.then(() => {
    for (const child of children) if (child.connected) child.send('release');
  });
  const [outcome] = await Promise.all([Promise.all(results), Promise.all(exits)]);
  return outcome;
}

describe('cache-manager over KeyvMemcachedStore', () => {
  let server: MemcachedProcess;
  let client: MemcachedClient;
  const run = Date.now().toString(36);
  const k = (name: string) => `${run}:${name}`;
  const loads = async (counterKey: string) => Number((await client.incr(counterKey, 0)) ?? 0n);
  const newCache = () =>
    createCache({ stores: [new Keyv({ store: new KeyvMemcachedStore({ client }), namespace: NAMESPACE })] });

  before(async () => {
    server = await startMemcached();
    client = new MemcachedClient({ servers: [{ id: server.address, host: server.host, port: server.port }] });
  });
  after(async () => {
    client.close();
    await stopAllMemcached();
  });

  it('cache.wrap: 2 processes × 25 callers on a cold key load once per process', async () => {
    const results = await race(
      [String(server.port), NAMESPACE, k('wrapped'), k('wrapped-loads'), '25', 'wrap'],
      2,
    );
    assert.deepEqual(
      results.map((r) => r.length),
      [25, 25],
    );
    // Each process coalesces its own 25 callers; both missed before either stored (the worker
    // makes sure of it), and nothing in wrap() looks beyond its process.
    assert.equal(await loads(k('wrapped-loads')), 2, 'the problem: one load per process');
    assert.equal(new Set(results.flat().map((r) => JSON.stringify(r))).size, 2);
  });

  it('singleFlight: 2 processes × 25 callers on a cold key load once, all 50 get its value', async () => {
    const results = await race(
      [String(server.port), NAMESPACE, k('flight'), k('flight-loads'), '25', 'single'],
      2,
    );
    assert.deepEqual(
      results.map((r) => r.length),
      [25, 25],
    );
    assert.equal(await loads(k('flight-loads')), 1, 'the loader ran once across both processes');
    const values = new Set(results.flat().map((r) => JSON.stringify(r)));
    assert.equal(values.size, 1, 'all 50 callers got the one loaded value');
    // What it wrote is what cache-manager reads.
    assert.deepEqual(await newCache().get(k('flight')), JSON.parse([...values][0]!));
  });

  it("cache-manager's get reads what singleFlight wrote, and singleFlight reads what cache.set wrote", async () => {
    const cache = newCache();
    let calls = 0;
    const value = await singleFlight(cache, k('format'), () => ({ n: ++calls, when: new Date(0) }), {
      ttl: 60_000,
    });
    assert.deepEqual(value, { n: 1, when: new Date(0) });
    // Keyv's serializer, Keyv's `{ value, expires }`, the namespace's generation: as cache.set writes.
    assert.deepEqual(await cache.get(k('format')), { n: 1, when: new Date(0).toJSON() });
    const expires = await cache.ttl(k('format'));
    assert.ok(
      expires !== undefined && expires > Date.now() && expires <= Date.now() + 60_000,
      `expires ${expires}`,
    );
    await cache.set(k('set-by-cm'), 'from cache.set', 60_000);
    assert.equal(await singleFlight(cache, k('set-by-cm'), () => 'loaded'), 'from cache.set');
    assert.equal(calls, 1);
  });

  it('a failed load frees the key for the next caller; undefined is refused', async () => {
    const cache = newCache();
    await assert.rejects(
      singleFlight(cache, k('failing'), () => {
        throw new Error('backend down');
      }),
      /backend down/,
    );
    assert.equal(await singleFlight(cache, k('failing'), () => 'second try'), 'second try');
    await assert.rejects(
      singleFlight(cache, k('undefined'), () => undefined),
      (error: { code?: string }) => error.code === 'INVALID_VALUE',
    );
    assert.equal(await cache.get(k('undefined')), undefined);
  });

  it('a loader past leaseTimeoutMs is aborted, its caller rejects, and the key is free again', async () => {
    const cache = newCache();
    let aborted = false;
    await assert.rejects(
      singleFlight(
        cache,
        k('slow'),
        (signal) =>
          new Promise<never>(() =>
            signal.addEventListener('abort', () => {
              aborted = true;
            }),
          ),
        { leaseTimeoutMs: 1000 },
      ),
      (error: { code?: string; message: string }) =>
        error.code === 'LOADER_TIMEOUT' && error.message.startsWith("singleFlight() loader for key '"),
    );
    assert.ok(aborted, 'the loader saw its signal abort');
    assert.equal(await singleFlight(cache, k('slow'), () => 'fast'), 'fast');
  });

  it('after clear() the value is loaded again (the namespace generation is part of the key)', async () => {
    const cache = newCache();
    assert.equal(await singleFlight(cache, k('cleared'), () => 'old'), 'old');
    await cache.clear();
    assert.equal(await cache.get(k('cleared')), undefined);
    assert.equal(await singleFlight(cache, k('cleared'), () => 'new'), 'new');
    assert.equal(await cache.get(k('cleared')), 'new');
  });

  it('refuses a cache without a memcached store', async () => {
    await assert.rejects(
      singleFlight(createCache(), k('x'), () => 1),
      TypeError,
    );
  });
});
