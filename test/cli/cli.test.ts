// End-to-end tests of the `memcached-cache` command: each case spawns the CLI as a child process
// against real memcached servers and checks stdout, stderr and the exit code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { rendezvousSelector } from '../../src/cluster/RendezvousSelector.js';
import {
  ConfigEndpoint,
  type MemcachedProcess,
  rawCommand,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { assertNoStack, cli, closedPort } from './spawnCli.js';

let servers: MemcachedProcess[];
let one: string[];
let both: string[];

before(async () => {
  servers = await startMemcachedCluster(2);
  one = ['--servers', servers[0]!.address];
  both = ['--servers', servers.map((s) => s.address).join(',')];
});
after(() => stopAllMemcached());

describe('memcached-cache CLI: help', { concurrency: 4 }, () => {
  it('--help lists every command, the global options and the exit codes', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    for (const word of [
      'get <key>',
      'set <key> <value>',
      'delete <key>',
      'stats',
      'keys-of <key…>',
      'bench',
      '--servers',
      '--uri',
      'Exit codes',
    ]) {
      assert.ok(r.stdout.includes(word), `help mentions ${word}`);
    }
  });

  it('"help" with no topic prints the same overall help', async () => {
    const [a, b] = await Promise.all([cli(['help']), cli(['--help'])]);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
  });

  it('"help set" and "set --help" print the command help', async () => {
    const [a, b] = await Promise.all([cli(['help', 'set']), cli(['set', '--help'])]);
    assert.equal(a.code, 0);
    assert.equal(b.code, 0);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /Usage: memcached-cache set <key> <value> \[--ttl seconds\]/);
    assert.match(a.stdout, /--ttl <seconds>/);
  });

  it('every command has its own help', async () => {
    for (const command of ['get', 'delete', 'stats', 'keys-of', 'bench']) {
      const r = await cli([command, '-h']);
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, new RegExp(`Usage: memcached-cache ${command}`));
    }
  });
});

describe('memcached-cache CLI: usage errors exit 2', { concurrency: 4 }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no command', [], /no command given/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['help for an unknown command', ['help', 'frobnicate'], /unknown command 'frobnicate'/],
    ['unknown option', ['get', 'k', '--bogus'], /Unknown option '--bogus'/],
    ['missing key', ['get'], /get takes exactly one key/],
    ['too many keys', ['get', 'a', 'b'], /get takes exactly one key/],
    ['set without value', ['set', 'k'], /set takes a key and a value/],
    ['bad ttl', ['set', 'k', 'v', '--ttl', 'soon'], /--ttl must be a whole number/],
    ['bad server list', ['get', 'k', '--servers', 'host:notaport'], /--servers must be a port/],
    [
      'both --servers and --uri',
      ['get', 'k', '--servers', 'a:1', '--uri', 'memcached://b:2'],
      /either --servers or --uri/,
    ],
    [
      'bad distribution',
      ['keys-of', 'k', '--distribution', 'modulo'],
      /--distribution must be ketama or rendezvous/,
    ],
    ['key too long', ['get', 'k'.repeat(251), '--servers', '127.0.0.1:1'], /250/],
    [
      'bad discovery',
      ['nodes', '--discovery', 'consul'],
      /--discovery must be one of elasticache, elasticache_legacy, dns/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Run "memcached-cache (help \S+|--help)" for usage\./);
      assertNoStack(r.stderr);
    });
  }
});

describe('memcached-cache CLI: commands against real memcached', () => {
  it('set then get round-trips a value; get prints the value and a newline', async () => {
    const set = await cli(['set', 'cli:k1', 'hello world ✓', ...one]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, '');
    const get = await cli(['get', 'cli:k1', ...one]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'hello world ✓\n');
    assert.equal(get.stderr, '');
  });

  it('get of a missing key prints nothing on stdout, a message on stderr, exit 1', async () => {
    const r = await cli(['get', 'cli:missing', ...one]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /key not found: cli:missing/);
  });

  it('set --ttl stores the TTL in seconds; a value may start with "-" after --', async () => {
    const r = await cli(['set', 'cli:ttl', '--ttl', '100', ...one, '--', '-42']);
    assert.equal(r.code, 0, r.stderr);
    const reply = (await rawCommand(servers[0]!.target, 'mg cli:ttl t v\r\n')).toString();
    const ttl = Number(/ t(\d+)/.exec(reply)?.[1]);
    assert.ok(ttl > 90 && ttl <= 100, reply);
    assert.match(reply, /\r\n-42\r\n$/);
  });

  it('delete: exit 0 when deleted, 1 when the key did not exist', async () => {
    await cli(['set', 'cli:del', 'x', ...one]);
    const first = await cli(['delete', 'cli:del', ...one]);
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(['delete', 'cli:del', ...one]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /key not found/);
  });

  it('--uri works like --servers', async () => {
    await cli(['set', 'cli:uri', 'via-uri', '--uri', `memcached://${servers[0]!.address}`]);
    const r = await cli(['get', 'cli:uri', '--uri', `memcached://${servers[0]!.address}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'via-uri\n');
  });

  it('stats prints one aligned row per server with the main stats', async () => {
    const r = await cli(['stats', ...both]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const header = lines[0]!.split(/\s+/);
    assert.deepEqual(header, [
      'server',
      'version',
      'uptime',
      'curr_items',
      'bytes',
      'get_hits',
      'get_misses',
      'curr_connections',
    ]);
    for (const [i, server] of servers.entries()) {
      const cells = lines[i + 1]!.split(/\s+/);
      assert.equal(cells[0], server.address);
      assert.match(cells[1]!, /^1\.6\.\d+/);
      for (const n of cells.slice(2)) assert.match(n, /^\d+$/);
    }
    // Aligned: every column ends at the same offset in every row (numbers right-aligned).
    const ends = (line: string) => [...line.matchAll(/\S+/g)].map((m) => m.index! + m[0].length);
    assert.deepEqual(ends(lines[1]!).slice(2), ends(lines[0]!).slice(2));
    assert.deepEqual(ends(lines[2]!).slice(2), ends(lines[0]!).slice(2));
  });

  it('stats with one unreachable server shows it and exits 3', async () => {
    const port = await closedPort();
    const r = await cli(['stats', '--servers', `${servers[0]!.address},127.0.0.1:${port}`]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${port}\\s+unreachable`));
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assertNoStack(r.stderr);
  });

  it('nodes lists the servers; with --discovery, the discovered ones, from where and which version', async () => {
    const plain = await cli(['nodes', ...both]);
    assert.equal(plain.code, 0, plain.stderr);
    const version = /^server\s+memcached\n(\S+)\s+(\d+\.\d+\.\d+)\n/.exec(plain.stdout);
    assert.ok(version, plain.stdout);
    assert.equal(version[1], servers[0]!.address);

    const endpoint = await ConfigEndpoint.start();
    try {
      endpoint.publish(7, servers);
      const found = await cli(['nodes', '--discovery', 'elasticache', '--servers', endpoint.address]);
      assert.equal(found.code, 0, found.stderr);
      const lines = found.stdout.trimEnd().split('\n');
      assert.equal(
        lines[0],
        `2 servers discovered by elasticache from ${endpoint.address}, configuration version 7`,
      );
      assert.deepEqual(
        lines.slice(2).map((l) => l.split(/\s+/)[0]),
        servers.map((s) => s.address),
      );
      const set = await cli([
        'set',
        'cli:discovered',
        'yes',
        '--discovery',
        'elasticache',
        '--servers',
        endpoint.address,
      ]);
      assert.equal(set.code, 0, set.stderr);
      const get = await cli(['get', 'cli:discovered', ...both]);
      assert.equal(get.stdout, 'yes\n', 'written to the discovered servers');
    } finally {
      await endpoint.stop();
    }
  });

  it('keys-of shows the server of each key, as the client routes it (ketama and rendezvous)', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `cli:route:${i}`);
    const endpoints = servers.map((s) => ({ id: s.address, host: s.host, port: s.port }));
    for (const distribution of ['ketama', 'rendezvous'] as const) {
      const r = await cli(['keys-of', ...keys, ...both, '--distribution', distribution]);
      assert.equal(r.code, 0, r.stderr);
      const client = new MemcachedClient({
        servers: endpoints,
        ...(distribution === 'rendezvous' ? { selector: rendezvousSelector } : {}),
      });
      try {
        const lines = r.stdout.trimEnd().split('\n');
        assert.equal(lines.length, keys.length);
        for (const [i, line] of lines.entries()) {
          assert.deepEqual(line.split(/\s+/), [keys[i], client.serverFor(keys[i]!)]);
        }
      } finally {
        client.close();
      }
    }
  });

  it('bench prints a progress bar on stderr and one result line on stdout', async () => {
    const r = await cli(['bench', '--ops', '400', '--concurrency', '8', ...one]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^set \d+ ops\/s p50 [\d.]+ ms p99 [\d.]+ ms \| get \d+ ops\/s p50 [\d.]+ ms p99 [\d.]+ ms hits 400\/400\n$/,
    );
    assert.match(r.stderr, /set\s+\[#+\] 100% 400\/400/);
    assert.match(r.stderr, /get\s+\[#+\] 100% 400\/400/);
  });
});

describe('memcached-cache CLI: unreachable server exits 3', { concurrency: 5 }, () => {
  for (const command of [
    ['get', 'k'],
    ['set', 'k', 'v'],
    ['delete', 'k'],
    ['stats'],
    ['nodes'],
    ['nodes', '--discovery', 'elasticache'],
    ['bench', '--ops', '10'],
  ]) {
    it(`${command[0]} against a closed port fails fast with a clear message`, async () => {
      const port = await closedPort();
      // A 30 s timeout: failing fast proves the refusal is reported at once, not timed out.
      const r = await cli([...command, '--servers', `127.0.0.1:${port}`, '--timeout', '30000']);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout.includes('ops/s'), false);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(r.stderr, /ECONNREFUSED/);
      assertNoStack(r.stderr);
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    });
  }
});
