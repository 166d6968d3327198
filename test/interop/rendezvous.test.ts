// options.distribution = rendezvous maps keys exactly like pymemcache's HashClient (the client
// pip-services4-python's MemcachedCache uses), proven key for key on three real servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemcachedCache } from '../../src/cache/MemcachedCache.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { rendezvousSelector } from '../../src/cluster/RendezvousSelector.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';
import { python, skipWithoutPymemcache } from './python.js';

const skip = skipWithoutPymemcache;

// Servers given as 'host:port' strings, as pip-services4-python's MemcachedCache does.
const PY_PRELUDE = `
import json, sys
from pymemcache.client.hash import HashClient
args = json.load(sys.stdin)
client = HashClient(servers=args["servers"], default_noreply=False, connect_timeout=5, timeout=5)
`;

const KEY_COUNT = 400;
const keys = (prefix: string) => [
  ...Array.from({ length: KEY_COUNT }, (_, i) => `${prefix}:${i}`),
  `${prefix}:with/slash`,
  `${prefix}:UPPER.case-mixed_${'x'.repeat(100)}`,
  `${prefix}:punct!"#$%&'()*+,;<=>?@[]^{|}~`,
];

let servers: MemcachedProcess[];
let addresses: string[];
let rendezvous: MemcachedClient;
let single: MemcachedClient[];

before(async () => {
  if (skip) return;
  servers = await startMemcachedCluster(3);
  addresses = servers.map((s) => s.address);
  const endpoints = servers.map((s) => ({ id: s.address, host: s.host, port: s.port }));
  rendezvous = new MemcachedClient({ servers: endpoints, selector: rendezvousSelector });
  single = endpoints.map((e) => new MemcachedClient({ servers: [e] }));
});
after(async () => {
  rendezvous?.close();
  for (const c of single ?? []) c.close();
  await stopAllMemcached();
});

/** Which server actually holds each key (asked of every server directly). */
async function holders(list: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(list.map((k) => [k, []]));
  for (const [i, client] of single.entries()) {
    const items = await client.getMany(list);
    for (const key of items.keys()) found.get(key)!.push(addresses[i]!);
  }
  return found;
}

describe('rendezvous distribution = pymemcache HashClient', { skip }, () => {
  it('keys stored by pymemcache HashClient are found by our client on the same server', async () => {
    const list = keys('py');
    const ok = python(
      `${PY_PRELUDE}\nprint(json.dumps([client.set(k, "v-" + k, 300) for k in args["keys"]]))`,
      { servers: addresses, keys: list },
    );
    assert.ok(ok.every(Boolean));
    const where = await holders(list);
    const perServer = new Map<string, number>();
    for (const key of list) {
      const on = where.get(key)!;
      assert.equal(on.length, 1, `${key} is on exactly one server`);
      assert.equal(rendezvous.serverFor(key), on[0], key);
      perServer.set(on[0]!, (perServer.get(on[0]!) ?? 0) + 1);
    }
    assert.equal(perServer.size, 3, 'keys spread over all three servers');
    const got = await rendezvous.getMany(list);
    assert.equal(got.size, list.length);
    for (const key of list) assert.equal(got.get(key)!.value.toString(), `v-${key}`);
  });

  it('keys stored by our client are found by pymemcache HashClient, which names the same node', async () => {
    const list = keys('ts');
    for (const key of list) await rendezvous.set(key, `w-${key}`, { ttl: 300 });
    const result = python(
      `${PY_PRELUDE}\nout = []\nfor k in args["keys"]:\n    v = client.get(k)\n    out.append([client.hasher.get_node(k), v.decode() if v is not None else None])\nprint(json.dumps(out))`,
      { servers: addresses, keys: list },
    );
    list.forEach((key, i) => {
      assert.equal(result[i][0], rendezvous.serverFor(key), key);
      assert.equal(result[i][1], `w-${key}`, key);
    });
  });

  it('ketama (the default) places keys differently, so the comparison above is not vacuous', () => {
    const ketama = new MemcachedClient({
      servers: servers.map((s) => ({ id: s.address, host: s.host, port: s.port })),
    });
    try {
      const differ = keys('py').filter((k) => ketama.serverFor(k) !== rendezvous.serverFor(k));
      assert.ok(differ.length > KEY_COUNT / 4, `${differ.length} keys differ`);
    } finally {
      ketama.close();
    }
  });

  it('MemcachedCache with options.distribution=rendezvous shares keys with pip-services4-python', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connections.0.host',
        '127.0.0.1',
        'connections.0.port',
        servers[0]!.port,
        'connections.1.host',
        '127.0.0.1',
        'connections.1.port',
        servers[1]!.port,
        'connections.2.host',
        '127.0.0.1',
        'connections.2.port',
        servers[2]!.port,
        'options.distribution',
        'rendezvous',
      ),
    );
    await cache.open('rv');
    try {
      const list = Array.from({ length: 60 }, (_, i) => `cache-rv:${i}`);
      for (const [i, key] of list.entries()) await cache.store('rv', key, { i, s: 'ü' }, 60_000);
      const read = python(
        `${PY_PRELUDE}\nprint(json.dumps([json.loads(client.get(k)) for k in args["keys"]]))`,
        { servers: addresses, keys: list },
      );
      assert.deepEqual(
        read,
        list.map((_, i) => ({ i, s: 'ü' })),
      );
    } finally {
      await cache.close('rv');
    }
  });

  it('an unknown options.distribution is a ConfigError naming the option', () => {
    const cache = new MemcachedCache();
    assert.throws(
      () =>
        cache.configure(
          ConfigParams.fromTuples('connection.host', '127.0.0.1', 'options.distribution', 'modulo'),
        ),
      (error: Error & { code?: string }) =>
        error.code === 'CONFIG' &&
        /options\.distribution/.test(error.message) &&
        /ketama, rendezvous/.test(error.message),
    );
  });
});
