// Interop with libmemcached (through /usr/bin/python3 + pylibmc, ketama_weighted) on three real
// servers: each client finds the keys the other stored, and serverFor() names the server that
// physically holds each key.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import {
  type MemcachedProcess,
  rawCommand,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const skip =
  !existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import pylibmc']).status !== 0
    ? 'pylibmc is not importable by /usr/bin/python3'
    : false;

// Stores `theirs` through a ketama_weighted pylibmc client (str or bytes values), then reads
// `ours` (stored by the TypeScript client) through the same client.
const PY = `
import base64, json, sys, pylibmc
req = json.load(sys.stdin)
mc = pylibmc.Client(req["servers"], behaviors={"ketama_weighted": True})
assert mc.behaviors["ketama_weighted"] and mc.behaviors["hash"] == "md5"
for key, value, kind in req["theirs"]:
    v = value if kind == "str" else base64.b64decode(value)
    if not mc.set(key, v):
        raise SystemExit("pylibmc set failed for %r" % key)
found = mc.get_multi(req["ours"])
out = {}
for key in req["ours"]:
    v = found.get(key)
    out[key] = None if v is None else [type(v).__name__, base64.b64encode(v if isinstance(v, bytes) else v.encode("utf-8")).decode("ascii")]
mc.disconnect_all()
print(json.dumps(out))
`;

function runPython(input: unknown): Promise<Record<string, [string, string] | null>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', PY], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`python exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** Which server physically holds each key: a quiet `mg` batch to every server on its own socket. */
async function physicalLocation(servers: MemcachedProcess[], keys: string[]): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  let payload = '';
  keys.forEach((key, i) => {
    const bytes = Buffer.from(key, 'utf8');
    const plain = bytes.every((c) => c > 0x20 && c < 0x7f);
    payload += `mg ${plain ? key : `${bytes.toString('base64')} b`} q O${i}\r\n`;
  });
  payload += 'mn\r\n';
  for (const server of servers) {
    const reply = (await rawCommand(server.target, payload, { until: /MN\r\n$/, timeoutMs: 5000 })).toString(
      'latin1',
    );
    for (const m of reply.matchAll(/^HD O(\d+)\r$/gm)) {
      const key = keys[Number(m[1])]!;
      where.set(key, [...(where.get(key) ?? []), server.address]);
    }
  }
  return where;
}

function keySet(tag: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 150; i++) keys.push(`${tag}:key:${i}`);
  for (let i = 0; i < 40; i++) keys.push(`${tag}:ключ:${i}`);
  for (let i = 0; i < 20; i++) keys.push(`${tag}:键🔑:${i}`);
  for (let i = 0; i < 20; i++) keys.push(`${tag}:${'long'.repeat(55)}:${i}`.slice(0, 250));
  return [...new Set(keys)];
}

describe('ketama interop with pylibmc (libmemcached) on three real servers', { skip }, () => {
  let servers: MemcachedProcess[];
  let client: MemcachedClient;

  before(async () => {
    servers = await startMemcachedCluster(3);
    client = makeClient(servers);
    await client.connect();
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('keys stored by pylibmc are found by our client and vice versa; serverFor() matches the physical server', async () => {
    const ours = keySet('ts');
    const theirs = keySet('py');
    assert.ok(ours.length >= 200 && theirs.length >= 200);
    const ourValue = (key: string, i: number): Buffer =>
      i % 3 === 0
        ? Buffer.from([0, 255, 13, 10, i & 0xff, ...Buffer.from(key)])
        : Buffer.from(`ts-value ${key}`);
    await Promise.all(ours.map((key, i) => client.set(key, ourValue(key, i))));

    const theirInput = theirs.map((key, i): [string, string, string] =>
      i % 2 === 0
        ? [key, `py-value ${key} ✓`, 'str']
        : [key, Buffer.from([i & 0xff, 0, 10, 13, 255, ...Buffer.from(key)]).toString('base64'), 'bytes'],
    );
    const seenByPython = await runPython({
      servers: servers.map((s) => s.address),
      theirs: theirInput,
      ours,
    });

    // pylibmc reads every key we stored, byte for byte (flags 0 → bytes in Python).
    ours.forEach((key, i) => {
      const got = seenByPython[key];
      assert.ok(got, `pylibmc did not find ${key}`);
      assert.equal(got[0], 'bytes');
      assert.ok(Buffer.from(got[1], 'base64').equals(ourValue(key, i)), `value of ${key} as seen by pylibmc`);
    });

    // We read every key pylibmc stored, byte for byte.
    const items = await Promise.all(theirs.map((key) => client.get(key)));
    const many = await client.getMany(theirs);
    theirInput.forEach(([key, value, kind], i) => {
      const item = items[i];
      assert.ok(item, `our client did not find ${key}`);
      const expected = kind === 'str' ? Buffer.from(value, 'utf8') : Buffer.from(value, 'base64');
      assert.ok(item.value.equals(expected), `value of ${key}`);
      // pylibmc 1.6 tags str values with its text flag (16) and bytes with 0.
      assert.equal(item.flags, kind === 'str' ? 16 : 0, `flags of ${key}`);
      assert.ok(many.get(key)?.value.equals(expected), `getMany value of ${key}`);
    });

    // serverFor() names the server that physically holds each key — ours and theirs.
    const all = [...ours, ...theirs];
    const where = await physicalLocation(servers, all);
    const perServer = new Map<string, number>();
    for (const key of all) {
      const holders = where.get(key);
      assert.deepEqual(holders, [client.serverFor(key)], `location of ${JSON.stringify(key)}`);
      perServer.set(holders[0]!, (perServer.get(holders[0]!) ?? 0) + 1);
    }
    assert.equal(perServer.size, 3, 'keys landed on all three servers');
  });
});
