// Our client behind real twemproxy (nutcracker) with three memcached servers: what meta mode
// says when it meets the proxy, and what text mode does there — single-flight loads across
// clients, multi-get over every backend, values shared with the `memcached` npm package both
// ways, failover between two proxies, a dead backend, and the calls the text protocol refuses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Memcached from 'memcached';
import {
  ConfigError,
  ConfigParams,
  InvalidKeyError,
  MemcachedCache,
  MemcachedClient,
  ServerError,
  UnsupportedServerError,
} from '../../src/index.js';
import type { ServerEndpoint } from '../../src/transport/ServerEndpoint.js';
import {
  type MemcachedProcess,
  startMemcachedCluster,
  startTwemproxy,
  stopAllMemcached,
  stopAllTwemproxy,
  type TwemproxyProcess,
} from '../support/index.js';

let servers: MemcachedProcess[];
let proxy: TwemproxyProcess;
const clients: MemcachedClient[] = [];

function endpoint(port: number): ServerEndpoint {
  return { id: `127.0.0.1:${port}`, host: '127.0.0.1', port };
}

function client(ports: number[], options: Partial<ConstructorParameters<typeof MemcachedClient>[0]> = {}) {
  const made = new MemcachedClient({ servers: ports.map(endpoint), protocol: 'text', ...options });
  clients.push(made);
  return made;
}

/** A meta client straight to one memcached behind the proxy, to see where keys landed. */
function direct(server: MemcachedProcess): MemcachedClient {
  const made = new MemcachedClient({ servers: [endpoint(server.port)] });
  clients.push(made);
  return made;
}

const backends = (list: MemcachedProcess[]) => list.map((s) => ({ host: s.host, port: s.port }));

before(async () => {
  servers = await startMemcachedCluster(3);
  // md5: twemproxy's default fnv1a_64 sent all of these short similar keys to one or two servers.
  proxy = await startTwemproxy({ servers: backends(servers), hash: 'md5' });
});
after(async () => {
  for (const c of clients) c.close();
  await stopAllTwemproxy();
  await stopAllMemcached();
});

describe('meta mode meets a proxy', () => {
  test('connect() says the proxy does not speak meta and names protocol text; the proxy is not ejected', async () => {
    const meta = new MemcachedClient({ servers: [endpoint(proxy.port)], failures: 1 });
    clients.push(meta);
    const started = Date.now();
    const error = await meta.connect().then(
      () => assert.fail('connected over meta through twemproxy'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnsupportedServerError, `got ${String(error)}`);
    assert.match(error.message, /answered `version` but closed the connection on the meta command `mn`/);
    assert.match(error.message, /twemproxy/);
    assert.match(error.message, /protocol: 'text'/);
    assert.doesNotMatch(error.message, /cannot reach|ECONNREFUSED/i);
    assert.ok(Date.now() - started < 1000);
    // Every call says the same; with failures = 1 the proxy would be out after one evidence.
    // (The pool's reconnect backoff answers with the same error, not "cannot connect".)
    for (let i = 0; i < 3; i++) await assert.rejects(meta.get('k'), UnsupportedServerError);
    assert.equal(meta.cluster.isAlive(`127.0.0.1:${proxy.port}`), true);
  });

  test('MemcachedCache.open() with the default protocol fails naming options.protocol', async () => {
    const cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', '127.0.0.1', 'connection.port', proxy.port));
    await assert.rejects(cache.open(null), (e: any) => {
      assert.equal(e.code, 'UNSUPPORTED_SERVER');
      assert.match(e.message, /options\.protocol=text/);
      return true;
    });
    assert.equal(cache.isOpen(), false);
  });
});

describe('text mode through twemproxy', () => {
  test('getOrStore: 2 caches × 10 callers on a cold key run the loader once, everyone gets the value', async () => {
    const caches = [new MemcachedCache(), new MemcachedCache()];
    for (const cache of caches) {
      cache.configure(
        ConfigParams.fromTuples(
          'connection.host',
          '127.0.0.1',
          'connection.port',
          proxy.port,
          'options.protocol',
          'text',
          'options.lease_timeout',
          2000,
        ),
      );
      await cache.open(null);
    }
    try {
      let loads = 0;
      const loader = async () => {
        loads++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { answer: 42 };
      };
      const key = `cold-${Date.now()}`;
      const results = await Promise.all(
        caches.flatMap((cache) =>
          Array.from({ length: 10 }, () => cache.getOrStore(null, key, 60_000, loader)),
        ),
      );
      assert.equal(loads, 1);
      for (const result of results) assert.deepEqual(result, { answer: 42 });
      // The stored value, not the placeholder, is what a plain read sees now.
      assert.deepEqual(await caches[0]!.retrieve(null, key), { answer: 42 });
    } finally {
      for (const cache of caches) await cache.close(null);
    }
  });

  test('a failed load frees the lease at once: the next caller loads', async () => {
    const c = client([proxy.port]);
    const lease = await c.getOrLease('lease-fail', 30);
    assert.equal(lease.win, true);
    const other = await c.getOrLease('lease-fail', 30);
    assert.deepEqual([other.win, other.pending, other.item], [false, true, null]);
    assert.equal(await c.get('lease-fail'), null, 'a placeholder reads as a miss');
    await c.delete('lease-fail');
    assert.equal((await c.getOrLease('lease-fail', 30)).win, true);
  });

  test('multi-get: 300 keys spread by the proxy over all 3 servers come back in one call', async () => {
    const c = client([proxy.port]);
    const keys = Array.from({ length: 300 }, (_, i) => `mg-${i}`);
    await c.setMany(keys.map((key) => ({ key, value: `value of ${key}` })));
    const found = await c.getMany([...keys, 'mg-missing']);
    assert.equal(found.size, 300);
    for (const key of keys) assert.equal(found.get(key)?.value.toString(), `value of ${key}`);
    // Each server behind the proxy holds some of them: the proxy hashed, not our client.
    for (const server of servers) {
      const held = await direct(server).getMany(keys);
      assert.ok(held.size > 0 && held.size < 300, `${server.port} holds ${held.size}`);
    }
  });

  test('values written by the `memcached` npm package read back equal, and the other way round', async () => {
    const theirs = new Memcached(`127.0.0.1:${proxy.port}`, { retries: 0, timeout: 2000 });
    const call = <T>(fn: (done: (err: unknown, value?: T) => void) => void) =>
      new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
    try {
      const c = client([proxy.port]);
      const text = 'héllo from memcached ✓';
      await call((done) => theirs.set('interop-theirs', text, 60, done));
      assert.equal((await c.get('interop-theirs'))?.value.toString('utf8'), text);
      await c.set('interop-ours', 'written by memcached-cache ✓', { ttl: 60 });
      assert.equal(await call((done) => theirs.get('interop-ours', done)), 'written by memcached-cache ✓');
      // A CAS read by ours is valid for theirs' view of the item and vice versa: one server.
      const item = (await c.get('interop-theirs'))!;
      assert.equal(await c.cas('interop-theirs', 'replaced', item.cas), true);
      assert.equal(await call((done) => theirs.get('interop-theirs', done)), 'replaced');
    } finally {
      theirs.end();
    }
  });

  test('remove() is a compare-and-delete the proxy forwards: a value changed meanwhile survives', async () => {
    const c = client([proxy.port]);
    await c.set('cas-delete', 'v1');
    const read = (await c.get('cas-delete'))!;
    await c.set('cas-delete', 'v2');
    assert.equal(await c.delete('cas-delete', { cas: read.cas }), false);
    assert.equal((await c.get('cas-delete'))?.value.toString(), 'v2');
    const now = (await c.get('cas-delete'))!;
    assert.equal(await c.delete('cas-delete', { cas: now.cas }), true);
    assert.equal(await c.get('cas-delete'), null);
    // Gone for add too: a lock released this way can be taken at once.
    assert.equal(await c.add('cas-delete', 'again'), true);
  });

  test('counters: incr/decr, and incr with initial creates a missing counter once', async () => {
    const c = client([proxy.port]);
    assert.equal(await c.incr('ctr-missing', 1), null);
    const created = await Promise.all(Array.from({ length: 10 }, () => c.incr('ctr', 5, { initial: 100 })));
    // One caller created it (100); the nine others added 5 each to it, in some order.
    assert.deepEqual(
      created.map(Number).sort((a, b) => a - b),
      [100, 105, 110, 115, 120, 125, 130, 135, 140, 145],
    );
    assert.equal(await c.decr('ctr', 1000), 0n);
  });

  test('calls that need the meta protocol are refused before anything is sent', async () => {
    const c = client([proxy.port]);
    for (const [name, call] of [
      ['invalidate()', () => c.invalidate('k', 5)],
      ['gat()', () => c.gat('k', 5)],
      ['getWithTtl()', () => c.getWithTtl('k')],
      ['stats()', () => c.stats()],
      ['flush()', () => c.flush()],
      ['getOrLease() with refreshAhead', () => c.getOrLease('k', 5, { refreshAhead: 2 })],
      ['revalidate()', () => c.revalidate('k', 'v', '1')],
    ] as const) {
      await assert.rejects(call(), (e: any) => {
        assert.ok(e instanceof ConfigError, `${name}: ${String(e)}`);
        assert.ok(e.message.startsWith(`${name} needs the meta protocol`), e.message);
        assert.equal(e.details?.requestSent, false);
        return true;
      });
    }
    await assert.rejects(c.set('has space', 'v'), InvalidKeyError);
    const cache = new MemcachedCache();
    assert.throws(
      () =>
        cache.configure(ConfigParams.fromTuples('options.protocol', 'text', 'options.refresh_ahead', 1000)),
      /options\.refresh_ahead' needs the meta protocol/,
    );
  });

  test('a value the servers refuse as too large: SERVER_ERROR for that call, the connection stays in step', async () => {
    const c = client([proxy.port], { maxValueSize: 4 * 1024 * 1024, poolSize: 1 });
    await assert.rejects(c.set('too-big', Buffer.alloc(2 * 1024 * 1024, 1)), ServerError);
    await c.set('after-too-big', 'fine');
    assert.equal((await c.get('after-too-big'))?.value.toString(), 'fine');
  });
});

describe('two proxies, and a backend down', () => {
  test('every key goes to the first proxy; when it dies the second takes over, with the same data', async () => {
    const second = await startTwemproxy({ servers: backends(servers) });
    const first = await startTwemproxy({ servers: backends(servers) });
    const c = client([first.port, second.port], { failures: 1, retries: 3, requestTimeoutMs: 500 });
    for (let i = 0; i < 50; i++) await c.set(`fo-${i}`, `v${i}`);
    assert.equal(c.connectionCounts().get(`127.0.0.1:${second.port}`) ?? 0, 0, 'nothing to the second');
    await first.kill();
    const read = await Promise.all(Array.from({ length: 50 }, (_, i) => c.get(`fo-${i}`)));
    assert.deepEqual(
      read.map((item) => item?.value.toString()),
      Array.from({ length: 50 }, (_, i) => `v${i}`),
    );
    assert.equal(c.cluster.isAlive(`127.0.0.1:${first.port}`), false);
    assert.deepEqual(c.cluster.routing, [`127.0.0.1:${second.port}`]);
    await second.stop();
  });

  test('a multi-get over a dead backend fails whole with SERVER_ERROR, and the proxy keeps serving', async () => {
    const own = await startMemcachedCluster(3);
    const front = await startTwemproxy({ servers: backends(own) });
    const c = client([front.port], { poolSize: 1 });
    const keys = Array.from({ length: 60 }, (_, i) => `dead-${i}`);
    await c.setMany(keys.map((key) => ({ key, value: key })));
    await own[1]!.kill();
    await assert.rejects(c.getMany(keys), (e: any) => {
      assert.ok(e instanceof ServerError, String(e));
      assert.match(e.message, /SERVER_ERROR/);
      return true;
    });
    // Keys on the live servers are still served on the same connection: the stream is in step.
    const alive = await direct(own[0]!).getMany(keys);
    const one = [...alive.keys()][0]!;
    assert.equal((await c.get(one))?.value.toString(), one);
    assert.equal(c.cluster.isAlive(`127.0.0.1:${front.port}`), true);
    await front.stop();
  });
});

describe('text mode, checks before anything is sent', () => {
  test('incr with initial refuses a bad ttl even when the counter exists (as meta does)', async () => {
    const c = client([proxy.port]);
    assert.equal(await c.incr('ctr-ttl', 1, { initial: 5 }), 5n);
    await assert.rejects(c.incr('ctr-ttl', 1, { initial: 5, ttl: -1 }), (e: any) => {
      assert.equal(e.code, 'INVALID_VALUE');
      assert.equal(e.details?.argument, 'ttl');
      return true;
    });
    assert.equal(await c.incr('ctr-ttl', 0), 5n, 'nothing was applied');
  });
});

describe('a backend stalled behind the proxy', () => {
  test('with request_timeout above the proxy timeout: SERVER_ERROR for its keys only, the proxy never ejected', async () => {
    const own = await startMemcachedCluster(3);
    const front = await startTwemproxy({ servers: backends(own), hash: 'md5', timeoutMs: 300 });
    const c = client([front.port], { requestTimeoutMs: 2000, failures: 1, retries: 0 });
    const keys = Array.from({ length: 60 }, (_, i) => `stall-${i}`);
    await c.setMany(keys.map((key) => ({ key, value: key })));
    const onStalled = [...(await direct(own[2]!).getMany(keys)).keys()];
    const elsewhere = keys.filter((k) => !onStalled.includes(k));
    assert.ok(onStalled.length > 0 && elsewhere.length > 0);
    await own[2]!.pauseAndWait();
    try {
      const started = Date.now();
      const results = await Promise.allSettled(keys.map((k) => c.get(k)));
      assert.ok(Date.now() - started < 1500, `settled in ${Date.now() - started} ms`);
      results.forEach((result, i) => {
        const key = keys[i]!;
        if (onStalled.includes(key)) {
          assert.equal(result.status, 'rejected', key);
          assert.equal((result as PromiseRejectedResult).reason.code, 'SERVER_ERROR', key);
        } else {
          assert.equal(result.status, 'fulfilled', key);
          assert.equal((result as PromiseFulfilledResult<any>).value?.value.toString(), key);
        }
      });
      assert.equal(c.cluster.isAlive(`127.0.0.1:${front.port}`), true, 'a SERVER_ERROR is not evidence');
    } finally {
      own[2]!.resume();
      await front.stop();
    }
  });
});
