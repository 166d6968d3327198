import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import {
  type MemcachedProcess,
  rawCommand,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
  waitFor,
} from '../support/index.js';

/** A cache on `server` with extra `options.*` (and any other keys) given as tuples. */
async function openCache(server: MemcachedProcess, ...tuples: unknown[]): Promise<MemcachedCache> {
  const cache = new MemcachedCache();
  cache.configure(
    ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port, ...tuples),
  );
  await cache.open(null);
  return cache;
}

describe('MemcachedCache options, each honoured', () => {
  let server: MemcachedProcess;
  const caches: MemcachedCache[] = [];
  const open = async (...tuples: unknown[]) => {
    const cache = await openCache(server, ...tuples);
    caches.push(cache);
    return cache;
  };
  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    for (const cache of caches) await cache.close(null);
    await stopAllMemcached();
  });

  it('max_key_size: 10 rejects an 11-byte key and sends nothing', async () => {
    const cache = await open('options.max_key_size', 10);
    await cache.store(null, '0123456789', 'fits', 10_000);
    await assert.rejects(cache.store(null, '0123456789A', 'too long', 10_000), { code: 'INVALID_KEY' });
    const reply = await rawCommand(server.target, 'mg 0123456789A v\r\n');
    assert.equal(reply.toString(), 'EN\r\n', 'the long key never reached the server');
    assert.equal(await cache.retrieve(null, '0123456789'), 'fits');
  });

  // A TTL of 1000 ms is sent as 2 s (secondsForMs): it lives 1–2 s, never less than asked.
  it('timeout: 1000 makes store(…, 0) expire within ~2 s, not the 60 s default', async () => {
    const cache = await open('options.timeout', 1000);
    await cache.store(null, 'short-default', 'v', 0);
    assert.equal(await cache.retrieve(null, 'short-default'), 'v');
    await sleep(2300); // the behaviour under test: the TTL runs out
    assert.equal(await cache.retrieve(null, 'short-default'), null);
  });

  it('max_expiration: 1000 clamps a 60 s TTL', async () => {
    const cache = await open('options.max_expiration', 1000);
    await cache.store(null, 'clamped', 'v', 60_000);
    assert.equal(await cache.retrieve(null, 'clamped'), 'v');
    await sleep(2300); // the behaviour under test: the clamped TTL runs out
    assert.equal(await cache.retrieve(null, 'clamped'), null);
  });

  it('pool_size: 1 opens one socket under 500 concurrent calls; the default opens more', async () => {
    // Generous request_timeout: this test is about sockets, not speed, and must not flake under load.
    const one = await open('options.pool_size', 1, 'options.request_timeout', 15_000);
    await Promise.all(Array.from({ length: 500 }, (_, i) => one.store(null, `p${i}`, i, 10_000)));
    assert.equal([...one.getClient().connectionCounts().values()][0], 1);
    const five = await open('options.request_timeout', 15_000);
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => five.store(null, `q${i}`, 'x'.repeat(1000), 10_000)),
    );
    assert.ok([...five.getClient().connectionCounts().values()][0]! > 1);
  });

  it('idle: 200 closes idle sockets', async () => {
    const cache = await open('options.idle', 200);
    await cache.store(null, 'idle', 1, 10_000);
    assert.ok([...cache.getClient().connectionCounts().values()][0]! >= 1);
    // Closed by the idle sweep: well within 1.5 s (idle 200 ms), never the 5 s default.
    const sockets = () => [...cache.getClient().connectionCounts().values()][0];
    await waitFor(() => sockets() === 0, 1500);
    assert.equal(sockets(), 0);
    assert.equal(await cache.retrieve(null, 'idle'), 1, 'reconnects on demand');
  });

  it('max_value: 100 rejects a bigger value, nothing sent, the old value stays', async () => {
    const cache = await open('options.max_value', 100);
    await cache.store(null, 'small', 'old', 10_000);
    await assert.rejects(cache.store(null, 'small', 'x'.repeat(200), 10_000), { code: 'VALUE_TOO_LARGE' });
    assert.equal(await cache.retrieve(null, 'small'), 'old');
  });

  it('max_size bounds the near cache (near_cache_ttl > 0): evicted entries are read from memcached', async () => {
    const cache = await open(
      'options.max_size',
      2,
      'options.near_cache_ttl',
      60_000,
      'options.key_prefix',
      'near:',
    );
    for (const key of ['a', 'b', 'c']) await cache.store(null, key, `${key}1`, 10_000);
    const raw = cache.getClient();
    for (const key of ['a', 'b', 'c']) await raw.set(`near:${key}`, JSON.stringify(`${key}2`));
    assert.equal(await cache.retrieve(null, 'a'), 'a2', 'a was evicted from the 2-entry near cache');
    assert.equal(await cache.retrieve(null, 'c'), 'c1', 'c is still served from the near cache');
  });

  it('request_timeout: a stopped server makes calls reject within it', async () => {
    const other = await startMemcached();
    const cache = await openCache(other, 'options.request_timeout', 300, 'options.retries', 0);
    await other.pauseAndWait();
    try {
      const started = Date.now();
      await assert.rejects(cache.retrieve('trace-7', 'k'), (error: any) => {
        assert.equal(error.code, 'TIMEOUT');
        assert.equal(error.traceId, 'trace-7');
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 450, `settled after ${took} ms`);
    } finally {
      other.resume();
      await cache.close(null);
    }
  });

  it('reconnect: a server that accepts but never answers fails open() after the connect timeout', async () => {
    const other = await startMemcached();
    await other.pauseAndWait();
    try {
      const cache = new MemcachedCache();
      cache.configure(
        ConfigParams.fromTuples(
          'connection.host',
          other.host,
          'connection.port',
          other.port,
          'options.reconnect',
          300,
        ),
      );
      const started = Date.now();
      await assert.rejects(cache.open('t'), { code: 'TIMEOUT' });
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 1000, `open failed after ${took} ms`);
      assert.equal(cache.isOpen(), false);
    } finally {
      other.resume();
    }
  });

  it('key_prefix namespaces keys', async () => {
    const cache = await open('options.key_prefix', 'app1:');
    await cache.store(null, 'user', { id: 1 }, 10_000);
    const item = await cache.getClient().get('app1:user');
    assert.equal(item?.value.toString(), '{"id":1}');
    assert.equal(item?.flags, 0);
  });

  it('compression_threshold compresses big values and reads them back', async () => {
    const cache = await open('options.compression_threshold', 100);
    const text = 'compressible '.repeat(1000);
    await cache.store(null, 'big', text, 10_000);
    const item = await cache.getClient().get('big');
    assert.ok(item!.value.length < text.length / 5);
    assert.equal(item!.flags & 0x10000, 0x10000);
    assert.equal(await cache.retrieve(null, 'big'), text);
  });

  it('reconfiguring compression_threshold back to 0 turns compression off', async () => {
    const cache = new MemcachedCache();
    const base = ['connection.host', server.host, 'connection.port', server.port];
    cache.configure(ConfigParams.fromTuples(...base, 'options.compression_threshold', 100));
    cache.configure(ConfigParams.fromTuples(...base, 'options.compression_threshold', 0));
    await cache.open(null);
    caches.push(cache);
    const text = 'compressible '.repeat(1000);
    await cache.store(null, 'plain-big', text, 10_000);
    const item = await cache.getClient().get('plain-big');
    assert.equal(item!.flags, 0);
    assert.equal(item!.value.length, Buffer.byteLength(JSON.stringify(text)));
  });

  it('a server listed twice fails open() with a ConfigError, not a crash', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connections.0.host',
        server.host,
        'connections.0.port',
        server.port,
        'connections.1.uri',
        `memcached://${server.host}:${server.port}`,
      ),
    );
    await assert.rejects(cache.open('dup'), (error: any) => {
      assert.equal(error.code, 'CONFIG');
      assert.match(error.message, new RegExp(`${server.host}:${server.port} more than once`));
      assert.equal(error.traceId, 'dup');
      return true;
    });
    assert.equal(cache.isOpen(), false);
  });

  it('bad option values throw ConfigError naming the key', () => {
    const cases: Array<[string, unknown]> = [
      ['options.max_key_size', 'abc'],
      ['options.max_key_size', 251],
      ['options.pool_size', 0],
      ['options.timeout', -5],
      ['options.retries', 'many'],
      ['options.idle', '1.5'],
      ['options.max_expiration', 'forever'],
    ];
    for (const [key, value] of cases) {
      const cache = new MemcachedCache();
      assert.throws(
        () => cache.configure(ConfigParams.fromTuples('connection.host', 'localhost', key, value)),
        (error: any) => error.code === 'CONFIG' && error.message.includes(key),
        `${key}=${String(value)}`,
      );
    }
  });
});

describe('MemcachedCache health options: retries, failures, retry', () => {
  let servers: MemcachedProcess[];
  before(async () => {
    servers = await startMemcachedCluster(2);
  });
  after(stopAllMemcached);

  const configFor = (...tuples: unknown[]) =>
    ConfigParams.fromTuples(
      'connections.0.host',
      servers[0]!.host,
      'connections.0.port',
      servers[0]!.port,
      'connections.1.host',
      servers[1]!.host,
      'connections.1.port',
      servers[1]!.port,
      'options.request_timeout',
      500,
      ...tuples,
    );

  it("failures: 1 + retries: 2 move a dead server's keys to the other; retries: 0 surfaces the error; retry lets it rejoin", async () => {
    const withRetries = new MemcachedCache();
    withRetries.configure(configFor('options.failures', 1, 'options.retries', 2, 'options.retry', 500));
    const noRetries = new MemcachedCache();
    noRetries.configure(configFor('options.failures', 100, 'options.retries', 0));
    await withRetries.open(null);
    await noRetries.open(null);
    try {
      const client = withRetries.getClient();
      const victim = servers[1]!;
      let key = '';
      for (let i = 0; key === ''; i++) if (client.serverFor(`k${i}`) === victim.address) key = `k${i}`;
      await victim.kill();
      await assert.rejects(noRetries.retrieve(null, key), { code: 'CONNECTION' });
      // First attempt fails, the server is ejected (failures: 1), the retry goes to the survivor.
      assert.equal(await withRetries.retrieve(null, key), null);
      assert.equal(client.cluster.isAlive(victim.address), false);
      await withRetries.store(null, key, 'moved', 10_000);
      assert.equal(await withRetries.retrieve(null, key), 'moved');
      await victim.restart();
      await waitFor(() => client.cluster.isAlive(victim.address), 4000);
      assert.equal(client.cluster.isAlive(victim.address), true, 'rejoined after retry');
    } finally {
      await withRetries.close(null);
      await noRetries.close(null);
    }
  });
});
