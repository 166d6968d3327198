/**
 * Cross-checks KetamaRing against the real C library.
 *
 * 1. pylibmc (libmemcached) with `behaviors={"ketama_weighted": True}` stores keys on three real
 *    memcached servers started here; each server is then asked directly which keys it holds, and
 *    KetamaRing must pick that same server for every key. Run twice: equal weights, and explicit
 *    weights given as pylibmc's `"host:port:weight"` server strings.
 * 2. libmemcached's own `memcached_generate_hash()` (called through ctypes, no servers needed)
 *    for many server lists: port 11211 and other ports, host names, odd weights whose point
 *    counts depend on libmemcached's single-precision float arithmetic.
 *
 * The memcached processes are spawned by this file and killed by their own PIDs in `after()`.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KetamaRing } from '../../src/cluster/KetamaRing.js';
import type { ServerSpec } from '../../src/cluster/ServerSelector.js';

const PYTHON = '/usr/bin/python3';
const MEMCACHED = '/usr/bin/memcached';

function pythonHas(modules: string): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', `import ${modules}`]).status === 0;
}

const skipServers = !existsSync(MEMCACHED)
  ? `${MEMCACHED} is not installed`
  : !pythonHas('pylibmc')
    ? 'pylibmc is not importable by /usr/bin/python3'
    : false;

function runPython(source: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ['-c', source], {
    input: JSON.stringify(input),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadlineMs = 5000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`memcached on ${port} did not start`);
    await sleep(25);
  }
}

// Stores every key through a ketama_weighted pylibmc client, then asks each server on its own
// (a single-server client never hashes) which of the keys it holds.
const LOCATE_PY = `
import json, sys, pylibmc
req = json.load(sys.stdin)
specs = req["specs"]
keys = req["keys"]
for spec in specs:
    single = pylibmc.Client([spec["plain"]])
    single.flush_all()
    single.disconnect_all()
mc = pylibmc.Client([s["spec"] for s in specs], behaviors={"ketama_weighted": True})
behaviors = mc.behaviors
for k in keys:
    if not mc.set(k, "v"):
        raise SystemExit("set failed for %r" % k)
mc.disconnect_all()
where = {}
for spec in specs:
    single = pylibmc.Client([spec["plain"]])
    found = single.get_multi(keys)
    for k in found:
        where.setdefault(k, []).append(spec["plain"])
    single.disconnect_all()
print(json.dumps({"where": where, "behaviors": {"distribution": behaviors["distribution"], "hash": behaviors["hash"], "ketama_weighted": behaviors["ketama_weighted"]}}))
`;

function interopKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 300; i++) keys.push(`key-${i}`);
  for (let i = 0; i < 80; i++) keys.push(`ключ-${i}`);
  for (let i = 0; i < 40; i++) keys.push(`键-${i}`);
  for (let i = 0; i < 30; i++) keys.push(`emoji-🔑-${i}`);
  for (let i = 0; i < 30; i++) keys.push(`user:${i}:session:${'x'.repeat(i * 5)}`);
  for (let i = 0; i < 20; i++) keys.push(`${'long'.repeat(50)}-${i}`);
  keys.push('ключ-1');
  return [...new Set(keys)];
}

describe('KetamaRing vs pylibmc on three real memcached servers', { skip: skipServers }, () => {
  const children: ChildProcess[] = [];
  const ports: number[] = [];

  before(async () => {
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'];
      if (asRoot) args.push('-u', 'root');
      const child = spawn(MEMCACHED, args, { stdio: 'ignore' });
      children.push(child);
      ports.push(port);
    }
    await Promise.all(ports.map((p) => waitForPort(p)));
  });

  after(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
              return resolve();
            child.once('exit', () => resolve());
            process.kill(child.pid, 'SIGTERM');
          }),
      ),
    );
  });

  function check(weights: (number | undefined)[]) {
    const keys = interopKeys();
    const specs = ports.map((port, i) => {
      const plain = `127.0.0.1:${port}`;
      const w = weights[i];
      return { plain, spec: w === undefined ? plain : `${plain}:${w}` };
    });
    const out = runPython(LOCATE_PY, { specs, keys }) as {
      where: Record<string, string[]>;
      behaviors: { distribution: string; hash: string; ketama_weighted: number };
    };
    assert.equal(out.behaviors.ketama_weighted, 1);
    assert.equal(out.behaviors.hash, 'md5');
    const servers: ServerSpec[] = ports.map((port, i) => {
      const w = weights[i];
      return { id: `127.0.0.1:${port}`, host: '127.0.0.1', port, ...(w === undefined ? {} : { weight: w }) };
    });
    const ring = new KetamaRing(servers);
    const perServer = new Map<string, number>();
    for (const key of keys) {
      const holders = out.where[key];
      assert.ok(
        holders !== undefined && holders.length === 1,
        `${key} is held by ${JSON.stringify(holders)}`,
      );
      const holder = holders[0]!;
      assert.equal(ring.pick(new TextEncoder().encode(key)), holder, `key ${JSON.stringify(key)}`);
      perServer.set(holder, (perServer.get(holder) ?? 0) + 1);
    }
    return perServer;
  }

  it('equal weights: KetamaRing picks the server pylibmc stored each of 500 keys on', () => {
    const perServer = check([undefined, undefined, undefined]);
    assert.equal(perServer.size, 3, 'every server got keys');
  });

  it('explicit weights ("host:port:weight"): same agreement, including float-sensitive point counts', () => {
    // 29 of 60 on 3 servers: libmemcached's float math gives 228 points where double math gives 232.
    check([29, 1, 30]);
    check([5, 1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------

const ORACLE_PY = `
import ctypes, ctypes.util, json, sys
name = ctypes.util.find_library("memcached") or "libmemcached.so.11"
lib = ctypes.CDLL(name)
lib.memcached_create.restype = ctypes.c_void_p
lib.memcached_create.argtypes = [ctypes.c_void_p]
lib.memcached_free.argtypes = [ctypes.c_void_p]
lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
lib.memcached_servers_parse.restype = ctypes.c_void_p
lib.memcached_servers_parse.argtypes = [ctypes.c_char_p]
lib.memcached_server_list_free.argtypes = [ctypes.c_void_p]
lib.memcached_server_push.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
lib.memcached_generate_hash.restype = ctypes.c_uint32
lib.memcached_generate_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 16
out = []
for case in json.load(sys.stdin):
    m = lib.memcached_create(None)
    lib.memcached_behavior_set(m, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1)
    lst = lib.memcached_servers_parse(case["servers"].encode())
    lib.memcached_server_push(m, lst)
    lib.memcached_server_list_free(lst)
    idx = []
    for k in case["keys"]:
        kb = k.encode()
        idx.append(lib.memcached_generate_hash(m, kb, len(kb)))
    lib.memcached_free(m)
    out.append(idx)
print(json.dumps(out))
`;

const skipOracle = pythonHas(
  'ctypes, ctypes.util; ctypes.CDLL(ctypes.util.find_library("memcached") or "libmemcached.so.11")',
)
  ? false
  : 'libmemcached is not loadable through ctypes';

describe('KetamaRing vs libmemcached memcached_generate_hash (ctypes)', { skip: skipOracle }, () => {
  it('agrees for many server lists, ports and weights', () => {
    // Deterministic pseudo-random configurations.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const keys = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `ключ-${i}` : `k:${i}:${i * 7}`));
    const configs: ServerSpec[][] = [
      // float-sensitive weight sets (single vs double precision point counts differ)
      [1, 2, 3, 4, 15].map((w, i) => ({ id: `10.1.0.${i}`, host: `10.1.0.${i}`, port: 11211, weight: w })),
      [29, 1, 30].map((w, i) => ({ id: `10.2.0.${i}`, host: `10.2.0.${i}`, port: 11211, weight: w })),
      [53, 7].map((w, i) => ({ id: `h${i}`, host: `cache-${i}.example`, port: 11211 + i, weight: w })),
    ];
    for (let c = 0; c < 25; c++) {
      const n = 2 + rand(10);
      const servers: ServerSpec[] = [];
      for (let i = 0; i < n; i++) {
        const port = rand(2) === 0 ? 11211 : 20000 + rand(40000);
        const host = rand(2) === 0 ? `10.${c}.${i}.${rand(250)}` : `mc${i}.c${c}.internal`;
        servers.push({ id: `${host}:${port}`, host, port, weight: c % 2 === 0 ? 1 : 1 + rand(1000) });
      }
      configs.push(servers);
    }
    const cases = configs.map((servers) => ({
      servers: servers.map((s) => `${s.host}:${s.port} ${s.weight ?? 1}`).join(','),
      keys,
    }));
    const results = runPython(ORACLE_PY, cases) as number[][];
    configs.forEach((servers, c) => {
      const ring = new KetamaRing(servers);
      const ids = servers.map((s) => s.id);
      keys.forEach((key, i) => {
        assert.equal(ring.pickString(key), ids[results[c]![i]!], `config ${c}, key ${key}`);
      });
    });
  });
});
