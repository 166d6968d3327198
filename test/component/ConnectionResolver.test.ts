import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  ConfigParams,
  ConnectionParams,
  ConnectionResolver,
  Context,
  Descriptor,
  type IDiscovery,
  MemoryDiscovery,
  References,
} from '../../src/index.js';

const discoveryLocator = new Descriptor('pip-services', 'discovery', 'memory', 'default', '1.0');

async function rejectsConfig(promise: Promise<unknown>, pattern: RegExp): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('MemoryDiscovery', () => {
  it('reads one connection per section key', async () => {
    const d = new MemoryDiscovery(
      ConfigParams.fromTuples('key1.host', '10.1.1.100', 'key1.port', '8080', 'key2.uri', 'memcached://b:1'),
    );
    const one = await d.resolveOne('123', 'key1');
    assert.deepEqual(one?.toJSON(), { host: '10.1.1.100', port: '8080' });
    assert.equal((await d.resolveOne('123', 'key2'))?.getUri(), 'memcached://b:1');
    assert.equal(await d.resolveOne('123', 'missing'), null);
    assert.deepEqual(await d.resolveAll('123', 'missing'), []);
  });

  it('configure replaces entries (unlike pip-services4 where it is a no-op)', async () => {
    const d = new MemoryDiscovery(ConfigParams.fromTuples('a.host', 'x'));
    d.configure(ConfigParams.fromTuples('b.host', 'y'));
    assert.equal(await d.resolveOne(null, 'a'), null);
    assert.equal((await d.resolveOne(null, 'b'))?.getHost(), 'y');
  });

  it('register adds connections under a key; resolveAll returns them all', async () => {
    const d = new MemoryDiscovery();
    await d.register(null, 'k', ConnectionParams.fromTuples('host', 'a'));
    await d.register(null, 'k', ConnectionParams.fromTuples('host', 'b'));
    assert.deepEqual(
      (await d.resolveAll(null, 'k')).map((c) => c.getHost()),
      ['a', 'b'],
    );
    assert.equal((await d.resolveOne(null, 'k'))?.getHost(), 'a');
  });
});

describe('ConnectionResolver', () => {
  it('returns configured connections as they are', async () => {
    const r = new ConnectionResolver(
      ConfigParams.fromTuples('connection.host', 'localhost', 'connection.port', 11211),
    );
    const all = await r.resolveAll('123');
    assert.equal(all.length, 1);
    assert.equal(all[0]!.getHost(), 'localhost');
    assert.equal(r.getAll().length, 1);
    assert.equal((await r.resolveOne('123'))?.getHost(), 'localhost');
  });

  it('add appends; getAll does not resolve discovery', async () => {
    const r = new ConnectionResolver();
    assert.equal(await r.resolveOne(null), null);
    assert.deepEqual(await r.resolveAll(null), []);
    r.add(ConnectionParams.fromTuples('discovery_key', 'k'));
    assert.equal(r.getAll()[0]!.getDiscoveryKey(), 'k');
  });

  it('resolves discovery_key through MemoryDiscovery references, merging over the original', async () => {
    const discovery = new MemoryDiscovery(
      ConfigParams.fromTuples('cache.host', 'mc1', 'cache.port', '11300'),
    );
    await discovery.register(null, 'cache', ConnectionParams.fromTuples('host', 'mc2'));
    const r = new ConnectionResolver();
    r.configure(
      ConfigParams.fromTuples(
        'connections.0.host',
        'direct',
        'connections.1.discovery_key',
        'cache',
        'connections.1.protocol',
        'memcacheds',
      ),
    );
    r.setReferences(References.fromTuples(discoveryLocator, discovery));
    const all = await r.resolveAll('123');
    assert.deepEqual(
      all.map((c) => [c.getHost(), c.getAsNullableString('port'), c.getProtocol(), c.configPath]),
      [
        ['direct', null, null, 'connections.0'],
        ['mc1', '11300', 'memcacheds', 'connections.1'],
        ['mc2', null, 'memcacheds', 'connections.1'],
      ],
    );
  });

  it('queries every discovery reference', async () => {
    const d1 = new MemoryDiscovery(ConfigParams.fromTuples('k.host', 'a'));
    const d2 = new MemoryDiscovery(ConfigParams.fromTuples('k.host', 'b'));
    const r = new ConnectionResolver(
      ConfigParams.fromTuples('connection.discovery_key', 'k'),
      References.fromTuples(discoveryLocator, d1, new Descriptor('x', 'discovery', 'other', 'x', '1.0'), d2),
    );
    const hosts = (await r.resolveAll(null)).map((c) => c.getHost()).sort();
    assert.deepEqual(hosts, ['a', 'b']);
    assert.equal((await r.resolveOne(null))?.getHost() != null, true);
  });

  it('ignores discovery references of another version', async () => {
    const r = new ConnectionResolver(
      ConfigParams.fromTuples('connection.discovery_key', 'k'),
      References.fromTuples(
        new Descriptor('x', 'discovery', 'memory', 'x', '2.0'),
        new MemoryDiscovery(ConfigParams.fromTuples('k.host', 'a')),
      ),
    );
    await rejectsConfig(r.resolveAll(null), /no discovery service \(\*:discovery:\*:\*:1\.0\) is referenced/);
  });

  it('discovery_key without a discovery reference → ConfigError naming the key, with trace id', async () => {
    const r = new ConnectionResolver(ConfigParams.fromTuples('connection.discovery_key', 'my-cache'));
    const err = await rejectsConfig(r.resolveAll('trace-1'), /'connection\.discovery_key' is 'my-cache'/);
    assert.match(err.message, /\*:discovery:\*:\*:1\.0/);
    assert.equal(err.traceId, 'trace-1');
    assert.equal(err.code, 'CONFIG');
    r.setReferences(new References());
    await rejectsConfig(r.resolveOne(Context.fromTraceId('t2')), /connection\.discovery_key/);
  });

  it('discovery that knows nothing about the key → ConfigError naming the key', async () => {
    const r = new ConnectionResolver(
      ConfigParams.fromTuples('connections.0.discovery_key', 'unknown'),
      References.fromTuples(
        discoveryLocator,
        new MemoryDiscovery(ConfigParams.fromTuples('other.host', 'x')),
      ),
    );
    await rejectsConfig(
      r.resolveAll(null),
      /'connections\.0\.discovery_key' is 'unknown' but no discovery service knows/,
    );
  });

  it('resolveOne prefers a direct connection and does not touch discovery', async () => {
    const calls: string[] = [];
    const spy: IDiscovery = {
      register: async (_c, _k, conn) => conn,
      resolveOne: async () => null,
      resolveAll: async (_c, key) => {
        calls.push(key);
        return [];
      },
    };
    const r = new ConnectionResolver(
      ConfigParams.fromTuples('connections.0.discovery_key', 'k', 'connections.1.host', 'direct'),
      References.fromTuples(discoveryLocator, spy),
    );
    assert.equal((await r.resolveOne(null))?.getHost(), 'direct');
    assert.deepEqual(calls, []);
  });

  it('register puts the connection into discovery', async () => {
    const discovery = new MemoryDiscovery();
    const r = new ConnectionResolver(null, References.fromTuples(discoveryLocator, discovery));
    assert.equal(
      await r.register(null, ConnectionParams.fromTuples('discovery_key', 'k', 'host', 'h')),
      true,
    );
    assert.equal((await discovery.resolveOne(null, 'k'))?.getHost(), 'h');
    assert.equal(await r.register(null, ConnectionParams.fromTuples('host', 'h')), false);
  });
});
