// Values shared with pip-services4 in Python and in Node. pip-services4-python's MemcachedCache
// stores `json.dumps(value, default=str)` through pymemcache's HashClient (flags 0) and reads
// with `json.loads`; pip-services4-node stores `JSON.stringify(value)` through the `memcached` npm
// package (a string: flags 0). The npm package also tags values it serialises itself: 2 JSON,
// 4 Buffer, 8 number. All of these must read back through MemcachedCache, and what
// MemcachedCache writes must read back in Python.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemcachedCache } from '../../src/cache/MemcachedCache.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { type MemcachedProcess, rawCommand, startMemcached, stopAllMemcached } from '../support/index.js';
import { python, skipWithoutPymemcache } from './python.js';

const skip = skipWithoutPymemcache;

// pip-services4-python MemcachedCache, reduced to what touches the wire.
const PY_PRELUDE = `
import json, sys
from pymemcache.client.hash import HashClient
args = json.load(sys.stdin)
client = HashClient(servers=args["servers"], default_noreply=False, connect_timeout=5, timeout=5)
def store(key, value, timeout_ms):
    return client.set(key, json.dumps(value, default=str), int(timeout_ms / 1000))
def retrieve(key):
    res = client.get(key)
    return None if not res else json.loads(res)
`;

const VALUES: Array<[string, unknown]> = [
  ['str', 'ABC'],
  ['str-empty-ish', ' '],
  ['str-unicode', 'héllo wörld ✓ 日本語 🚀'],
  ['str-json-looking', '{"not": "an object"}'],
  ['int', 42],
  ['zero', 0],
  ['negative-float', -1.5],
  ['big', 1e21],
  ['true', true],
  ['false', false],
  ['object', { name: 'Ünïcode ✓', nested: { list: [1, 'two', 3.5, null, false] }, empty: {} }],
  ['list', [1, 2, 3, 'four', { five: 5 }, [6]]],
  ['list-empty', []],
];

let server: MemcachedProcess;
let cache: MemcachedCache;

before(async () => {
  server = await startMemcached();
  cache = new MemcachedCache();
  cache.configure(ConfigParams.fromTuples('connection.host', '127.0.0.1', 'connection.port', server.port));
  await cache.open('interop');
});
after(async () => {
  await cache?.close('interop');
  await stopAllMemcached();
});

describe('interop with pip-services4-python (pymemcache, json.dumps, flags 0)', { skip }, () => {
  it('values written by Python read back through MemcachedCache', async () => {
    const entries = VALUES.map(([k, v]) => [`py-to-ts:${k}`, v]);
    const stored = python(
      `${PY_PRELUDE}\nprint(json.dumps([store(k, v, 60000) for k, v in args["entries"]]))`,
      {
        servers: [server.address],
        entries,
      },
    );
    assert.ok((stored as boolean[]).every(Boolean));
    for (const [key, value] of entries as Array<[string, unknown]>) {
      assert.deepEqual(await cache.retrieve('interop', key), value, key);
      const raw = (await rawCommand(server.target, `mg ${key} f\r\n`)).toString();
      assert.match(raw, /^HD f0\r\n$/, `${key} has flags 0`);
    }
  });

  it('values written by MemcachedCache read back in Python with json.loads', async () => {
    const entries = VALUES.map(([k, v]) => [`ts-to-py:${k}`, v] as const);
    for (const [key, value] of entries) await cache.store('interop', key, value, 60_000);
    const read = python(`${PY_PRELUDE}\nprint(json.dumps([retrieve(k) for k in args["keys"]]))`, {
      servers: [server.address],
      keys: entries.map(([k]) => k),
    });
    assert.deepEqual(
      read,
      entries.map(([, v]) => v),
    );
  });

  it('a key written by one side and removed by the other is gone for both', async () => {
    await cache.store('interop', 'shared:remove', { a: 1 }, 60_000);
    python(`${PY_PRELUDE}\nprint(json.dumps(client.delete("shared:remove")))`, { servers: [server.address] });
    assert.equal(await cache.retrieve('interop', 'shared:remove'), null);
  });
});

describe('interop with pip-services4-node (the memcached npm package)', () => {
  async function rawSet(key: string, flags: number, data: Buffer | string): Promise<void> {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    const reply = await rawCommand(
      server.target,
      Buffer.concat([Buffer.from(`set ${key} ${flags} 60 ${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]),
    );
    assert.equal(reply.toString(), 'STORED\r\n');
  }

  it('pip-services4-node format: JSON.stringify(value) as a string, flags 0', async () => {
    for (const [name, value] of VALUES) {
      await rawSet(`npm-ps:${name}`, 0, JSON.stringify(value));
      assert.deepEqual(await cache.retrieve('interop', `npm-ps:${name}`), value, name);
    }
  });

  it("the npm package's own flags: 2 JSON, 4 Buffer, 8 number", async () => {
    await rawSet('npm:json', 2, JSON.stringify({ a: [1, 'b'], ü: true }));
    assert.deepEqual(await cache.retrieve('interop', 'npm:json'), { a: [1, 'b'], ü: true });
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d]);
    await rawSet('npm:binary', 4, binary);
    const back = await cache.retrieve('interop', 'npm:binary');
    assert.ok(Buffer.isBuffer(back));
    assert.deepEqual(back, binary);
    await rawSet('npm:numeric', 8, '-12.5');
    assert.equal(await cache.retrieve('interop', 'npm:numeric'), -12.5);
    await rawSet('npm:plain', 0, 'not json at all');
    assert.equal(await cache.retrieve('interop', 'npm:plain'), 'not json at all');
  });

  it('what MemcachedCache writes is exactly JSON.stringify(value) with flags 0', async () => {
    const value = { s: 'ü', n: [1, 2] };
    await cache.store('interop', 'ours:json', value, 60_000);
    const raw = (await rawCommand(server.target, 'get ours:json\r\n', { until: 'END\r\n' })).toString('utf8');
    const json = JSON.stringify(value);
    assert.equal(raw, `VALUE ours:json 0 ${Buffer.byteLength(json)}\r\n${json}\r\nEND\r\n`);
  });
});
