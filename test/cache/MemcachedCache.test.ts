import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, Context, MemcachedCache } from '../../src/index.js';
import { type MemcachedProcess, rawCommand, startMemcached, stopAllMemcached } from '../support/index.js';

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exited with ${code}`))));
  });
}

describe('MemcachedCache beyond the ICache contract', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;
  const run_ = Date.now().toString(36);
  const k = (name: string) => `${run_}:${name}`;

  before(async () => {
    server = await startMemcached();
    cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port));
    await cache.open(null);
  });
  after(async () => {
    await cache.close(null);
    await stopAllMemcached();
  });

  it('calls before open() and after close() fail with InvalidStateError carrying the trace id', async () => {
    const closed = new MemcachedCache();
    await assert.rejects(closed.retrieve('abc', 'k'), { code: 'INVALID_STATE', traceId: 'abc' });
    await assert.rejects(closed.store(Context.fromTraceId('ctx-1'), 'k', 1, 1000), {
      code: 'INVALID_STATE',
      traceId: 'ctx-1',
    });
    const other = new MemcachedCache();
    other.configure(ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port));
    await other.open(null);
    await other.open(null); // idempotent
    await other.close(null);
    await other.close(null); // idempotent
    await assert.rejects(other.remove(undefined, 'k'), { code: 'INVALID_STATE' });
  });

  it('writes what pip-services4 writes: JSON text with client flags 0', async () => {
    await cache.store(null, k('json'), { a: [1, 'two'], b: null }, 10_000);
    const reply = await rawCommand(server.target, `mg ${k('json')} v f\r\n`, { until: /\r\n.*\r\n$/s });
    const json = '{"a":[1,"two"],"b":null}';
    assert.equal(reply.toString(), `VA ${json.length} f0\r\n${json}\r\n`);
  });

  it('reads data written by other clients: non-JSON text, memcached-npm JSON/binary/numeric flags', async () => {
    const set = (key: string, flags: number, data: string) =>
      rawCommand(server.target, `set ${key} ${flags} 60 ${Buffer.byteLength(data)}\r\n${data}\r\n`);
    await set(k('plain'), 0, 'hello world');
    await set(k('npmjson'), 2, '{"x":1}');
    await set(k('npmbin'), 4, 'raw');
    await set(k('npmnum'), 8, '42.5');
    assert.equal(await cache.retrieve(null, k('plain')), 'hello world');
    assert.deepEqual(await cache.retrieve(null, k('npmjson')), { x: 1 });
    assert.deepEqual(await cache.retrieve(null, k('npmbin')), Buffer.from('raw'));
    assert.equal(await cache.retrieve(null, k('npmnum')), 42.5);
  });

  it('bytes round-trip as Buffer with their own flag; Uint8Array comes back as Buffer', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await cache.store(null, k('bytes'), bytes, 10_000);
    assert.deepEqual(await cache.retrieve(null, k('bytes')), bytes);
    await cache.store(null, k('u8'), new Uint8Array([1, 2, 3]), 10_000);
    assert.deepEqual(await cache.retrieve(null, k('u8')), Buffer.from([1, 2, 3]));
  });

  it('remove() reports only the value it actually deleted', async () => {
    await cache.store(null, k('rm'), 'v1', 10_000);
    assert.equal(await cache.remove(null, k('rm')), 'v1');
    assert.equal(await cache.remove(null, k('rm')), null);
    // Race many writers against one remover: whatever remove() reports must be a value that
    // was stored, and after it the key holds either nothing or a later writer's value.
    await cache.store(null, k('race'), 'w-init', 10_000);
    const writes = Array.from({ length: 50 }, (_, i) => cache.store(null, k('race'), `w${i}`, 10_000));
    const removed = cache.remove(null, k('race'));
    await Promise.all(writes);
    const reported = await removed;
    assert.ok(reported === null || reported === 'w-init' || /^w\d+$/.test(reported), String(reported));
  });

  it('retrieveMany/storeMany pipeline many keys', async () => {
    const entries = Array.from({ length: 200 }, (_, i) => [k(`many${i}`), { i }] as const);
    await cache.storeMany(null, entries, 10_000);
    const found = await cache.retrieveMany(null, [...entries.map(([key]) => key), k('absent')]);
    assert.equal(found.size, 200);
    assert.deepEqual(found.get(k('many7')), { i: 7 });
    assert.equal(found.has(k('absent')), false);
  });

  it('getOrStore runs the loader once for 50 concurrent in-process misses', async () => {
    let loads = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        cache.getOrStore(null, k('stampede'), 10_000, async () => {
          loads++;
          await new Promise((resolve) => setTimeout(resolve, 100)); // a slow loader: the 50 callers overlap it
          return { loaded: true };
        }),
      ),
    );
    assert.equal(loads, 1);
    assert.ok(results.every((r) => (r as { loaded: boolean }).loaded === true));
    assert.deepEqual(await cache.retrieve(null, k('stampede')), { loaded: true });
  });

  it('getOrStore: a failing loader frees the lease so the next caller loads', async () => {
    await assert.rejects(
      cache.getOrStore(null, k('failing'), 10_000, () => {
        throw new Error('backend down');
      }),
      /backend down/,
    );
    assert.equal(await cache.getOrStore(null, k('failing'), 10_000, () => 'second try'), 'second try');
  });

  it('getOrStore across two processes with 50 callers each runs the loader once', async () => {
    const worker = new URL('./fixtures/getOrStoreWorker.ts', import.meta.url).pathname;
    const args = [String(server.port), k('xproc'), k('xproc-loads'), '50'];
    const outputs = await Promise.all([run(worker, args), run(worker, args)]);
    for (const out of outputs) assert.deepEqual(JSON.parse(out), { count: 50, distinct: 1 });
    const loads = await rawCommand(server.target, `mg ${k('xproc-loads')} v\r\n`, { until: /\r\n.*\r\n$/s });
    assert.equal(loads.toString().split('\r\n')[1], '1', 'loader ran once across both processes');
  });

  it('rejected calls never corrupt data: the cache works and no other key changed', async () => {
    await cache.store(null, k('canary'), 'safe', 60_000);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const bad: Array<[string, () => Promise<unknown>, string]> = [
      ['long key', () => cache.store(null, 'k'.repeat(251), 1, 1000), 'INVALID_KEY'],
      ['empty key', () => cache.store(null, '', 1, 1000), 'INVALID_KEY'],
      ['non-string key', () => cache.store(null, 42 as unknown as string, 1, 1000), 'INVALID_KEY'],
      [
        'oversize value',
        () => cache.store(null, k('canary'), 'x'.repeat(1_048_577), 1000),
        'VALUE_TOO_LARGE',
      ],
      ['bad TTL', () => cache.store(null, k('canary'), 1, Number.NaN), 'INVALID_VALUE'],
      ['BigInt', () => cache.store(null, k('canary'), 10n, 1000), 'INVALID_VALUE'],
      ['cycle', () => cache.store(null, k('canary'), cycle, 1000), 'INVALID_VALUE'],
    ];
    for (const [name, call, code] of bad) {
      await assert.rejects(call(), (error: any) => {
        assert.equal(error.code, code, name);
        assert.ok(!String(error.message).includes('xxxxxxxx'), 'no value in the message');
        return true;
      });
      assert.equal(await cache.retrieve(null, k('canary')), 'safe', `after ${name}`);
    }
    await cache.store(null, k('after'), 'works', 10_000);
    assert.equal(await cache.retrieve(null, k('after')), 'works');
  });
});
