// Issue 12: `autoDiscovery: 'dns'` (a Kubernetes headless service publishes one A record per pod).
// A DNS server of the test support answers for the name; node's resolver is pointed at it as a
// pod's resolv.conf points at the cluster DNS. The data servers are real memcached processes on
// 127.0.0.1, 127.0.0.2 and 127.0.0.3 (all loopback on Linux), on one port, as pods share one.
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { after, before, describe, it } from 'node:test';
import type { TopologyChange } from '../../src/client/diagnostics.js';
import {
  DnsServer,
  freePort,
  type MemcachedProcess,
  startMemcached,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, waitFor } from './helpers.js';

const NAME = 'memcached.cache.svc.cluster.test';

describe('auto-discovery: dns', () => {
  let pods: MemcachedProcess[];
  let port: number;
  let server: DnsServer;
  before(async () => {
    server = await DnsServer.start();
    dns.setServers([server.address]);
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        pods = [];
        for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3'])
          pods.push(await startMemcached({ host, port }));
        break;
      } catch (error) {
        await stopAllMemcached(); // another process took the port on one of the addresses: try another
        if (attempt === 3) throw error;
      }
    }
  });
  after(async () => {
    closeAll();
    await server.stop();
    await stopAllMemcached();
  });

  it('each address of the name is a server; a changed answer is applied, an unchanged one is not; a failing DNS keeps the list', async () => {
    const [one, two, three] = pods as [MemcachedProcess, MemcachedProcess, MemcachedProcess];
    server.set(NAME, ['127.0.0.2', '127.0.0.1']);
    const client = makeClient([{ id: `${NAME}:${port}`, host: NAME, port }], {
      autoDiscovery: 'dns',
      discoveryIntervalMs: 100,
      requestTimeoutMs: 500,
    });
    const heard: TopologyChange[] = [];
    client.onTopologyChange((change) => heard.push(change));
    await client.connect();
    assert.deepEqual(
      client.cluster.serverIds,
      [one.address, two.address],
      'sorted addresses, the port configured',
    );
    await client.set('pod-key', 'v');
    assert.equal((await client.get('pod-key'))?.value.toString(), 'v');

    const queries = server.queries;
    assert.ok(await waitFor(() => server.queries >= queries + 6, 3000), 'DNS is asked again every interval');
    assert.equal(heard.length, 1, 'the same answer changes nothing');

    server.set(NAME, ['127.0.0.2', '127.0.0.3']);
    assert.ok(await waitFor(() => heard.length === 2, 1100), 'applied within one interval + 1 s');
    assert.deepEqual(
      [heard[1]!.added, heard[1]!.removed, heard[1]!.source],
      [[three.address], [one.address], 'dns'],
    );

    server.set(NAME, []); // the name is gone: NXDOMAIN
    assert.ok(
      await waitFor(() => client.discoveryStatus?.lastError != null, 3000),
      'the failure is reported',
    );
    assert.match(client.discoveryStatus!.lastError!.message, new RegExp(`DNS name ${NAME} has no address`));
    assert.deepEqual(client.cluster.serverIds, [two.address, three.address], 'the last good list stays');
    await client.set('still', 'served');
    assert.equal((await client.get('still'))?.value.toString(), 'served');
  });
});
