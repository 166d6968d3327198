// Issue 12: auto-discovery of the server list (ElastiCache/Memorystore `config get cluster`, the
// legacy `AmazonElastiCache:cluster` item), on real memcached data servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TopologyChange } from '../../src/client/diagnostics.js';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { ConfigError, ConnectionError } from '../../src/index.js';
import {
  ConfigEndpoint,
  clusterConfigBody,
  type MemcachedProcess,
  quietConnections,
  rawCommand,
  settleConnections,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, verifiedLoad, waitFor } from './helpers.js';

const INTERVAL = 100;
const configEndpoint = (e: ConfigEndpoint) => ({ id: e.address, host: e.host, port: e.port });

/** Resolves with the next topology change, or rejects after `ms`. */
function nextChange(client: MemcachedClient, ms: number): Promise<TopologyChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no topology change within ${ms} ms`));
    }, ms);
    const off = client.onTopologyChange((change) => {
      clearTimeout(timer);
      off();
      resolve(change);
    });
  });
}

describe('auto-discovery: elasticache (config get cluster)', () => {
  let servers: MemcachedProcess[];
  const endpoints: ConfigEndpoint[] = [];
  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(async () => {
    closeAll();
    await Promise.all(endpoints.map((e) => e.stop()));
    await stopAllMemcached();
  });
  const start = async () => {
    const endpoint = await ConfigEndpoint.start();
    endpoints.push(endpoint);
    return endpoint;
  };

  it('connect() discovers the nodes; a higher version is applied within one interval + 1 s; stale and empty lists are ignored', async () => {
    const [a, b, c] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const endpoint = await start();
    endpoint.publish(5, [a, b]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
    });
    const heard: TopologyChange[] = [];
    client.onTopologyChange((change) => heard.push(change));
    await client.connect();
    assert.deepEqual(client.cluster.serverIds, [a.address, b.address]);
    assert.deepEqual(heard, [
      { added: [a.address, b.address], removed: [], source: 'elasticache', version: 5 },
    ]);
    await client.set('discovered', 'yes');
    assert.equal((await client.get('discovered'))?.value.toString(), 'yes');
    assert.equal(client.discoveryStatus?.version, 5);

    const publishedAt = performance.now();
    const change = nextChange(client, INTERVAL + 1000);
    endpoint.publish(6, [a, b, c]);
    assert.deepEqual(await change, { added: [c.address], removed: [], source: 'elasticache', version: 6 });
    assert.ok(performance.now() - publishedAt <= INTERVAL + 1000);

    const polled = endpoint.requests;
    endpoint.publish(4, [c]); // stale: lower than 6
    assert.ok(await waitFor(() => endpoint.requests >= polled + 3, 3000), 'discovery keeps polling');
    endpoint.publish(7, []); // empty
    const polledEmpty = endpoint.requests;
    assert.ok(await waitFor(() => endpoint.requests >= polledEmpty + 3, 3000));
    assert.equal(heard.length, 2, 'neither the stale nor the empty list was applied');
    assert.deepEqual(client.cluster.serverIds, [a.address, b.address, c.address]);
    assert.equal(client.discoveryStatus?.version, 6);
    assert.equal(client.discoveryStatus?.lastError, null);
  });

  it('a dead endpoint keeps the last good list; the next endpoint is asked at the next interval', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const [first, second] = [await start(), await start()];
    first.publish(1, [a]);
    second.publish(1, [a]);
    const client = makeClient([configEndpoint(first), configEndpoint(second)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
      requestTimeoutMs: 300,
    });
    await client.connect();
    assert.equal(first.requests, 1);
    assert.equal(second.requests, 0, 'the first endpoint that answers is enough');
    first.silent = true; // accepts, never answers: each poll of it times out
    second.publish(2, [a, b]);
    const change = await nextChange(client, 4 * (INTERVAL + 300) + 1000);
    assert.deepEqual([change.added, change.version], [[b.address], 2]);
    assert.ok(second.requests >= 1);
    await client.set('after-failover', 'ok');
    assert.equal((await client.get('after-failover'))?.value.toString(), 'ok');
  });

  it('a node that leaves is drained and its sockets close', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    closeAll(); // the clients of the tests before hold sockets on B too
    const baseline = await quietConnections(b.target);
    const endpoint = await start();
    endpoint.publish(1, [a, b]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
    });
    await client.connect();
    // Touch both servers so each has a socket.
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.set(`drain:${i}`, 'x')));
    assert.ok((client.connectionCounts().get(b.address) ?? 0) > 0);
    const change = nextChange(client, INTERVAL + 1000);
    endpoint.publish(2, [a]);
    assert.deepEqual((await change).removed, [b.address]);
    assert.ok(
      await waitFor(() => !client.connectionCounts().has(b.address), 2000),
      'the removed server is no longer a pool',
    );
    assert.equal(await settleConnections(b.target, baseline), baseline, 'no socket of ours is left on B');
  });

  it('under 20 workers: add, remove, a stale version, an empty list, replace all: no failed call, no wrong value', async () => {
    closeAll();
    const [a, b, c] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const baseline = await quietConnections(b.target);
    const endpoint = await start();
    endpoint.publish(1, [a]);
    // No retries: a request lost or refused in a change would fail its call, not be hidden by a retry.
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
      requestTimeoutMs: 2000,
      retries: 0,
    });
    await client.connect();
    const heard: TopologyChange[] = [];
    client.onTopologyChange((change) => heard.push(change));
    const load = verifiedLoad(client, 'discovered');
    const publish = async (version: number, nodes: MemcachedProcess[]) => {
      const change = nextChange(client, INTERVAL + 1000);
      endpoint.publish(version, nodes);
      return change;
    };
    const ignored = async (version: number, nodes: MemcachedProcess[]) => {
      const before = heard.length;
      endpoint.publish(version, nodes);
      const polled = endpoint.requests;
      assert.ok(await waitFor(() => endpoint.requests >= polled + 3, 3000));
      assert.equal(heard.length, before, `version ${version} with ${nodes.length} nodes was not applied`);
    };

    assert.deepEqual((await publish(2, [a, b])).added, [b.address]);
    assert.deepEqual((await publish(3, [a])).removed, [b.address]);
    await ignored(2, [b, c]); // stale
    await ignored(4, []); // empty
    const replaced = await publish(5, [c]);
    assert.deepEqual([replaced.added, replaced.removed], [[c.address], [a.address]]);
    await new Promise((resolve) => setTimeout(resolve, 150)); // load on the last list (the scenario)
    const { calls, misses, failures, wrong } = await load.stop();

    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed calls`);
    assert.deepEqual(wrong, []);
    assert.ok(calls > 1000, `only ${calls} calls ran`);
    assert.ok(misses < calls / 20, `${misses} misses of ${calls} calls`);
    assert.equal(await settleConnections(b.target, baseline), baseline, 'no socket of ours is left on B');
    assert.deepEqual(client.cluster.serverIds, [c.address]);
  });

  it('open fails naming the endpoint: unreachable → ConnectionError; a plain memcached → ConfigError', async () => {
    const gone = await ConfigEndpoint.start();
    const port = gone.port;
    await gone.stop();
    const unreachable = makeClient([{ id: `127.0.0.1:${port}`, host: '127.0.0.1', port }], {
      autoDiscovery: 'elasticache',
    });
    await assert.rejects(unreachable.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    const a = servers[0]!;
    const plain = makeClient([{ id: a.address, host: a.host, port: a.port }], {
      autoDiscovery: 'elasticache',
    });
    await assert.rejects(plain.connect(), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(
        error.message,
        new RegExp(
          `${a.address} \\(${a.address} is not a cluster configuration endpoint: it answered 'ERROR'`,
        ),
      );
      return true;
    });
    await assert.rejects(plain.get('k'), /server list is empty until the first discovery/);
  });
});

describe('auto-discovery: elasticache_legacy (the AmazonElastiCache:cluster item)', () => {
  let servers: MemcachedProcess[];
  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  it('reads the item from a real memcached and follows its updates', async () => {
    const [config, a, b] = servers as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    const write = async (version: number, nodes: MemcachedProcess[]) => {
      const body = clusterConfigBody(version, nodes);
      const reply = await rawCommand(
        config.target,
        `set AmazonElastiCache:cluster 0 0 ${Buffer.byteLength(body)}\r\n${body}\r\n`,
      );
      assert.equal(reply.toString(), 'STORED\r\n');
    };
    await write(1, [a]);
    const client = makeClient([{ id: config.address, host: config.host, port: config.port }], {
      autoDiscovery: 'elasticache_legacy',
      discoveryIntervalMs: INTERVAL,
    });
    await client.connect();
    assert.deepEqual(client.cluster.serverIds, [a.address]);
    const change = nextChange(client, INTERVAL + 1000);
    await write(2, [a, b]);
    assert.deepEqual(await change, {
      added: [b.address],
      removed: [],
      source: 'elasticache_legacy',
      version: 2,
    });
  });

  it('a memcached without the item is not a configuration endpoint (ConfigError naming it)', async () => {
    const bare = servers[2]!;
    const client = makeClient([{ id: bare.address, host: bare.host, port: bare.port }], {
      autoDiscovery: 'elasticache_legacy',
    });
    await assert.rejects(client.connect(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`${bare.address} holds no cluster configuration`));
      return true;
    });
  });
});
