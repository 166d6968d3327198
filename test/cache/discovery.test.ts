// Issue 12 for the components: `options.auto_discovery` and a live `connection.discovery_key`,
// observed through the memcached-cache:topology channel, on real memcached data servers.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import {
  ConfigParams,
  ConnectionError,
  ConnectionParams,
  Descriptor,
  MemcachedCache,
  MemcachedLock,
  MemoryDiscovery,
  References,
  TOPOLOGY_CHANNEL,
  type TopologyChange,
} from '../../src/index.js';
import {
  ConfigEndpoint,
  type MemcachedProcess,
  rawCommand,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';

/** Collects what the topology channel publishes until `stop()`. */
function listen(): { heard: TopologyChange[]; next(ms: number): Promise<TopologyChange>; stop(): void } {
  const heard: TopologyChange[] = [];
  const waiters: Array<(change: TopologyChange) => void> = [];
  const onMessage = (message: unknown) => {
    heard.push(message as TopologyChange);
    for (const waiter of waiters.splice(0)) waiter(message as TopologyChange);
  };
  subscribe(TOPOLOGY_CHANNEL, onMessage);
  return {
    heard,
    next: (ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no topology change within ${ms} ms`)), ms);
        waiters.push((change) => {
          clearTimeout(timer);
          resolve(change);
        });
      }),
    stop: () => unsubscribe(TOPOLOGY_CHANNEL, onMessage),
  };
}

describe('components on a cluster that changes', () => {
  let servers: MemcachedProcess[];
  let endpoint: ConfigEndpoint;
  before(async () => {
    servers = await startMemcachedCluster(2);
    endpoint = await ConfigEndpoint.start();
  });
  after(async () => {
    await endpoint.stop();
    await stopAllMemcached();
  });

  it('options.auto_discovery elasticache: open() discovers, a new node is applied, values land on the discovered servers', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    endpoint.publish(1, [a]);
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        endpoint.host,
        'connection.port',
        endpoint.port,
        'options.auto_discovery',
        'elasticache',
        'options.discovery_interval',
        100,
      ),
    );
    const topology = listen();
    try {
      await cache.open('discovery-test');
      assert.deepEqual(
        topology.heard.map((h) => [h.added, h.source, h.version]),
        [[[a.address], 'elasticache', 1]],
      );
      await cache.store(null, 'on-a', 'A', 60_000);
      const raw = await rawCommand(a.target, 'mg on-a v\r\n');
      assert.match(raw.toString(), /^VA 3/, 'the value is on the discovered server');
      const change = topology.next(1100);
      endpoint.publish(2, [a, b]);
      assert.deepEqual((await change).added, [b.address]);
      for (let i = 0; i < 20; i++) await cache.store(null, `spread:${i}`, i, 60_000);
      for (let i = 0; i < 20; i++) assert.equal(await cache.retrieve(null, `spread:${i}`), i);
    } finally {
      topology.stop();
      await cache.close(null);
    }
  });

  it('open() fails with ConnectionError naming the configuration endpoint when none answers', async () => {
    const lock = new MemcachedLock();
    const gone = await ConfigEndpoint.start();
    const port = gone.port;
    await gone.stop();
    lock.configure(
      ConfigParams.fromTuples(
        'connection.host',
        '127.0.0.1',
        'connection.port',
        port,
        'options.auto_discovery',
        'elasticache',
      ),
    );
    await assert.rejects(lock.open('t-1'), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.equal(error.traceId, 't-1');
      return true;
    });
    assert.equal(lock.isOpen(), false);
  });

  it('connection.discovery_key is resolved again every discovery_interval and changes are applied', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const discovery = new MemoryDiscovery();
    await discovery.register(null, 'memcached', ConnectionParams.fromTuples('host', a.host, 'port', a.port));
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples('connection.discovery_key', 'memcached', 'options.discovery_interval', 100),
    );
    cache.setReferences(
      References.fromTuples(new Descriptor('test', 'discovery', 'memory', 'default', '1.0'), discovery),
    );
    const topology = listen();
    try {
      await cache.open(null);
      const joined = topology.next(1100);
      await discovery.register(
        null,
        'memcached',
        ConnectionParams.fromTuples('host', b.host, 'port', b.port),
      );
      const change = await joined;
      assert.deepEqual([change.added, change.removed, change.source], [[b.address], [], 'discovery']);
      await cache.store(null, 'after-join', 'ok', 60_000);
      assert.equal(await cache.retrieve(null, 'after-join'), 'ok');
    } finally {
      topology.stop();
      await cache.close(null);
    }
  });

  it('an unknown auto_discovery value, or a discovery_interval under 100 ms, is a ConfigError naming the key', () => {
    const cache = new MemcachedCache();
    assert.throws(
      () =>
        cache.configure(ConfigParams.fromTuples('connection.host', 'h', 'options.auto_discovery', 'consul')),
      /options\.auto_discovery/,
    );
    assert.throws(
      () =>
        cache.configure(ConfigParams.fromTuples('connection.host', 'h', 'options.discovery_interval', 99)),
      /options\.discovery_interval/,
    );
    cache.configure(ConfigParams.fromTuples('connection.host', 'h', 'options.discovery_interval', 100));
  });
});
