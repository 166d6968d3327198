// Issue 21 item 6: discovery can be neither poisoned (a version no honest reply can beat, a list
// of thousands of nodes) nor stuck (a topology whose servers all fail waits for the interval).
// The configuration endpoint is test/support's stand-in; the data servers are real memcached.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TopologyChange } from '../../src/client/diagnostics.js';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { ConfigError, ConfigParams, MemcachedCache } from '../../src/index.js';
import {
  ConfigEndpoint,
  type ConfigNode,
  freePort,
  type MemcachedProcess,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, waitFor } from './helpers.js';

const INTERVAL = 100;
/** An interval no test waits for: only the all-failing rule can explain an earlier re-ask. */
const NEVER = 60_000;
const POISON = 999_999_999_999_999;
const configEndpoint = (e: ConfigEndpoint) => ({ id: e.address, host: e.host, port: e.port });
const openFds = () => readdirSync('/proc/self/fd').length;

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

/** Nodes on loopback ports nothing listens on: every connection is refused. */
async function deadNodes(n: number): Promise<ConfigNode[]> {
  const nodes: ConfigNode[] = [];
  for (let i = 0; i < n; i++) nodes.push({ host: `dead${i}`, ip: '127.0.0.1', port: await freePort() });
  return nodes;
}

/** `count` nodes without probing ports (a list that must never be connected to). */
function manyNodes(count: number): ConfigNode[] {
  return Array.from({ length: count }, (_, i) => ({
    host: `node${i}`,
    ip: `127.0.${1 + (i >> 8)}.${i & 255 || 1}`,
    port: 1 + i,
  }));
}

describe('discovery bounds: no reply pins the version, no list is too long, a failed topology is re-asked', () => {
  let servers: MemcachedProcess[];
  const endpoints: ConfigEndpoint[] = [];
  before(async () => {
    servers = await startMemcachedCluster(2);
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

  it('a version far above the applied one does not pin it: the endpoint answering lower versions 5 times in a row is a cluster reset', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const endpoint = await start();
    endpoint.publish(5, [a]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
    });
    await client.connect();
    endpoint.publish(POISON, [a]); // the same list: nothing to apply, only the version is held
    assert.ok(await waitFor(() => client.discoveryStatus?.version === POISON, 3000));

    const polled = endpoint.requests;
    const change = nextChange(client, 10 * INTERVAL + 3000);
    endpoint.publish(6, [a, b]); // the honest configuration, lower than the poisoned version
    assert.deepEqual(await change, { added: [b.address], removed: [], source: 'elasticache', version: 6 });
    assert.ok(
      endpoint.requests - polled >= 5,
      `a lower version is a reset only after 5 answers in a row (applied after ${endpoint.requests - polled})`,
    );
    assert.equal(client.discoveryStatus?.version, 6);
    // From the reset on, versions count from 6 again: the next change is applied at once.
    const next = nextChange(client, INTERVAL + 1000);
    endpoint.publish(7, [b]);
    assert.deepEqual((await next).removed, [a.address]);
    await client.set('after-reset', 'ok');
    assert.equal((await client.get('after-reset'))?.value.toString(), 'ok');
  });

  it('a list over discoveryMaxServers (default 256) is rejected into discoveryStatus; the last good list stays, no socket is opened', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const endpoint = await start();
    endpoint.publish(1, [a]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
    });
    await client.connect();
    const heard: TopologyChange[] = [];
    client.onTopologyChange((change) => heard.push(change));
    const fds = openFds();

    endpoint.publish(2, [a, ...manyNodes(999)]);
    assert.ok(await waitFor(() => client.discoveryStatus?.lastError != null, 3000), 'the list was refused');
    const error = client.discoveryStatus?.lastError;
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(
      error.message,
      /gave 1000 servers \(version 2\), more than discoveryMaxServers \(options\.discovery_max_servers\) 256/,
    );
    assert.deepEqual(heard, []);
    assert.deepEqual(
      client.servers.map((s) => s.id),
      [a.address],
    );
    assert.equal(client.discoveryStatus?.version, 1, 'a refused list leaves the version alone');
    assert.ok(openFds() < fds + 20, `${openFds() - fds} more file descriptors after the refused list`);
    await client.set('kept', 'yes');
    assert.equal((await client.get('kept'))?.value.toString(), 'yes');

    const fixed = nextChange(client, INTERVAL + 1000);
    endpoint.publish(3, [a, b]);
    assert.deepEqual((await fixed).added, [b.address]);
    assert.equal(client.discoveryStatus?.lastError, null);
  });

  it("the issue's 5,000-node list (ElastiCache-length names) is refused from the reply's header: no socket, no topology change", async () => {
    const a = servers[0]!;
    const endpoint = await start();
    endpoint.publish(1, [a]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: INTERVAL,
    });
    await client.connect();
    const heard: TopologyChange[] = [];
    client.onTopologyChange((change) => heard.push(change));
    const fds = openFds();
    const nodes = manyNodes(5000).map((node, i) => ({
      ...node,
      host: `mycluster.abc123.${String(i).padStart(4, '0')}.use1.cache.amazonaws.com`,
    }));
    endpoint.publish(2, nodes);
    assert.ok(await waitFor(() => client.discoveryStatus?.lastError != null, 3000), 'the list was refused');
    assert.match(
      String(client.discoveryStatus?.lastError?.message),
      /announced a \d+-byte cluster configuration, more than the \d+ bytes a list within discoveryMaxServers/,
    );
    assert.deepEqual(heard, []);
    assert.equal(client.servers.length, 1);
    assert.ok(openFds() < fds + 20, `${openFds() - fds} more file descriptors after the refused list`);
  });

  it('the first discovery refuses a list over the bound (ConfigError naming it); the component reads options.discovery_max_servers', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const endpoint = await start();
    endpoint.publish(1, [a, b]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryMaxServers: 1,
    });
    await assert.rejects(client.connect(), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /gave 2 servers \(version 1\), more than discoveryMaxServers/);
      return true;
    });

    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        endpoint.host,
        'connection.port',
        endpoint.port,
        'options.auto_discovery',
        'elasticache',
        'options.discovery_max_servers',
        1,
      ),
    );
    try {
      await assert.rejects(
        cache.open('bounds'),
        /more than discoveryMaxServers \(options\.discovery_max_servers\) 1/,
      );
    } finally {
      await cache.close('bounds');
    }
    assert.throws(
      () =>
        new MemcachedCache().configure(
          ConfigParams.fromTuples('connection.host', 'h', 'options.discovery_max_servers', 0),
        ),
      /options\.discovery_max_servers/,
    );
  });

  it('when every server of the topology fails (none ejected yet), the configuration endpoint is asked at once, not at the next interval', async () => {
    const b = servers[1]!;
    const x = await startMemcached();
    const endpoint = await start();
    endpoint.publish(1, [x]);
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: NEVER,
      requestTimeoutMs: 500,
    });
    await client.connect();
    await client.set('k', 'v');
    endpoint.publish(2, [b]); // the cluster replaced x; the client would hear of it in 60 s
    const polled = endpoint.requests;
    const change = nextChange(client, 5000);
    let changed = false;
    void change.then(
      () => {
        changed = true;
      },
      () => {},
    );
    const killedAt = performance.now();
    await x.kill();
    // The first failure on x (not yet ejected: `failures` is 5) makes every server of the topology failing.
    while (!changed && performance.now() - killedAt < 5000) await client.get('k').catch(() => null);
    const applied = await change;
    const recoveredMs = performance.now() - killedAt;
    assert.deepEqual(applied, {
      added: [b.address],
      removed: [x.address],
      source: 'elasticache',
      version: 2,
    });
    assert.equal(endpoint.requests, polled + 1, 'one re-ask, from the configuration endpoint');
    await client.set('k', 'on b');
    assert.equal((await client.get('k'))?.value.toString(), 'on b');
    console.log(`# all failing → new list applied ${Math.round(recoveredMs)} ms after the server died`);
  });

  it('the issue scenario, default options: a poisoned version with 200 dead nodes, then the endpoint is fixed: recovered within about a second, 28 of 28 calls succeed', async () => {
    const [a, b] = servers as [MemcachedProcess, MemcachedProcess];
    const endpoint = await start();
    endpoint.publish(POISON, await deadNodes(200));
    const client = makeClient([configEndpoint(endpoint)], {
      autoDiscovery: 'elasticache',
      discoveryIntervalMs: NEVER,
    });
    // The first discovery applies the poisoned list; none of its servers answers.
    await assert.rejects(client.connect());
    assert.equal(client.discoveryStatus?.version, POISON);
    // Their refused connects re-asked the endpoint at once, which still served the poisoned list.
    assert.ok(await waitFor(() => endpoint.requests >= 2, 3000), 'the all-failing topology was re-asked');

    const change = nextChange(client, 5000);
    const fixedAt = performance.now();
    endpoint.publish(8, [a, b]);
    const applied = await change;
    const recoveredMs = performance.now() - fixedAt;
    assert.deepEqual([applied.added, applied.version], [[a.address, b.address], 8]);
    // Asked again within a second while every server fails (plus the reply's own time).
    assert.ok(recoveredMs < 2500, `recovered ${Math.round(recoveredMs)} ms after the fix`);
    assert.equal(client.discoveryStatus?.version, 8);
    let ok = 0;
    for (let i = 0; i < 28; i++)
      if (
        await client.set(`after-fix:${i}`, 'v').then(
          () => true,
          () => false,
        )
      )
        ok++;
    assert.equal(ok, 28);
    console.log(
      `# poisoned + all failing → fixed configuration applied ${Math.round(recoveredMs)} ms after the fix`,
    );
  });
});
