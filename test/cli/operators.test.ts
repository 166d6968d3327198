// Issue 23 part 6, "the CLI for operators": --json on every command, get -v, touch, incr/decr,
// flush (guarded by --yes) and the live top view, against real memcached.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/cli.js';
import {
  type MemcachedProcess,
  rawCommand,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { assertNoStack, cli, closedPort, MAIN } from './spawnCli.js';

let servers: MemcachedProcess[];
let one: string[];
let both: string[];

before(async () => {
  servers = await startMemcachedCluster(2);
  one = ['--servers', servers[0]!.address];
  both = ['--servers', servers.map((s) => s.address).join(',')];
});
after(() => stopAllMemcached());

/** The one JSON document a --json run printed on stdout. */
function json(stdout: string): any {
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one JSON document: ${stdout}`);
  return JSON.parse(lines[0]!);
}

/** `mg <key> <flags>` on the raw wire, as text. */
async function metaGet(key: string, flags: string): Promise<string> {
  return (await rawCommand(servers[0]!.target, `mg ${key} ${flags}\r\n`)).toString('latin1');
}

describe('--json: one JSON document on stdout for every command', () => {
  it('help documents --json and the new commands', async () => {
    const r = await cli(['--help']);
    for (const word of [
      '--json',
      'top ',
      'flush',
      'touch <key> <ttl-seconds>',
      'incr <key> [delta]',
      'decr <key> [delta]',
      'get <key> [-v]',
    ])
      assert.ok(r.stdout.includes(word), `help mentions ${word}`);
  });

  it('get: a UTF-8 value as text, other bytes as base64; a miss is {key, found:false} and exit 1', async () => {
    await cli(['set', 'op:json', 'héllo', ...one]);
    const hit = await cli(['get', 'op:json', '--json', ...one]);
    assert.equal(hit.code, 0, hit.stderr);
    assert.deepEqual(json(hit.stdout), { key: 'op:json', found: true, value: 'héllo' });
    assert.equal(hit.stderr, '');

    await rawCommand(
      servers[0]!.target,
      Buffer.concat([
        Buffer.from('ms op:bin 3 F9\r\n'),
        Buffer.from([0xff, 0x00, 0xfe]),
        Buffer.from('\r\n'),
      ]),
    );
    const bin = await cli(['get', 'op:bin', '--json', ...one]);
    assert.deepEqual(json(bin.stdout), { key: 'op:bin', found: true, value: '/wD+', encoding: 'base64' });

    const miss = await cli(['get', 'op:nothing', '--json', ...one]);
    assert.equal(miss.code, 1);
    assert.deepEqual(json(miss.stdout), { key: 'op:nothing', found: false });
    assert.equal(miss.stderr, '');
  });

  it('set, delete and keys-of', async () => {
    const set = await cli(['set', 'op:sd', 'x', '--ttl', '50', '--json', ...one]);
    assert.deepEqual(json(set.stdout), { key: 'op:sd', stored: true, ttl: 50 });
    const del = await cli(['delete', 'op:sd', '--json', ...one]);
    assert.deepEqual(json(del.stdout), { key: 'op:sd', deleted: true });
    const again = await cli(['delete', 'op:sd', '--json', ...one]);
    assert.equal(again.code, 1);
    assert.deepEqual(json(again.stdout), { key: 'op:sd', found: false });
    const keys = await cli(['keys-of', 'a', 'b', '--json', ...both]);
    const rows = json(keys.stdout);
    assert.deepEqual(
      rows.map((r: { key: string }) => r.key),
      ['a', 'b'],
    );
    for (const r of rows) assert.ok(servers.some((s) => s.address === r.server));
  });

  it('stats and nodes: an array of per-server objects; an unreachable server is {server, error:{code,message}}, exit 3', async () => {
    const port = await closedPort();
    const list = ['--servers', `${servers[0]!.address},127.0.0.1:${port}`];
    const stats = await cli(['stats', '--json', ...list]);
    assert.equal(stats.code, 3);
    const [up, down] = json(stats.stdout);
    assert.equal(up.server, servers[0]!.address);
    assert.match(up.stats.version, /^1\.6\./);
    assert.match(up.stats.curr_connections, /^\d+$/);
    assert.equal(down.server, `127.0.0.1:${port}`);
    assert.equal(down.error.code, 'CONNECTION');
    assert.match(down.error.message, /ECONNREFUSED/);
    assert.equal(stats.stderr, '', 'the error is in the document');

    const nodes = await cli(['nodes', '--json', ...list]);
    assert.equal(nodes.code, 3);
    const [a, b] = json(nodes.stdout);
    assert.deepEqual(Object.keys(a), ['server', 'version']);
    assert.equal(b.error.code, 'CONNECTION');
  });

  it('bench prints its result as JSON', async () => {
    const r = await cli(['bench', '--ops', '50', '--concurrency', '4', '--json', ...one]);
    assert.equal(r.code, 0, r.stderr);
    const doc = json(r.stdout);
    assert.equal(doc.ops, 50);
    assert.equal(doc.get.hits, 50);
    assert.equal(typeof doc.set.opsPerSecond, 'number');
  });

  it('errors: the same exit code, {"error":{"code","message"}} on stderr, nothing on stdout', async () => {
    const port = await closedPort();
    const down = await cli(['get', 'k', '--json', '--servers', `127.0.0.1:${port}`]);
    assert.equal(down.code, 3);
    assert.equal(down.stdout, '');
    const error = JSON.parse(down.stderr).error;
    assert.equal(error.code, 'CONNECTION');
    assert.match(error.message, /ECONNREFUSED/);

    const usage = await cli(['get', '--json']);
    assert.equal(usage.code, 2);
    assert.equal(JSON.parse(usage.stderr).error.code, 'USAGE');
    const unknown = await cli(['frobnicate', '--json']);
    assert.equal(unknown.code, 2);
    assert.match(JSON.parse(unknown.stderr).error.message, /unknown command 'frobnicate'/);
  });
});

describe('get -v: flags, TTL left and CAS', () => {
  it('on stderr, one per line, stdout staying exactly the value; with --json in the document', async () => {
    await rawCommand(servers[0]!.target, 'ms op:v 2 F42 T300\r\nhi\r\n');
    const cas = /c(\d+)/.exec(await metaGet('op:v', 'c'))![1];
    const r = await cli(['get', 'op:v', '-v', ...one]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const [flags, ttl, casLine] = r.stderr.trimEnd().split('\n');
    assert.equal(flags, 'flags: 42');
    const seconds = Number(/^ttl: (\d+)$/.exec(ttl!)?.[1]);
    assert.ok(seconds > 290 && seconds <= 300, ttl);
    assert.equal(casLine, `cas: ${cas}`);

    const doc = json((await cli(['get', 'op:v', '--verbose', '--json', ...one])).stdout);
    assert.equal(doc.flags, 42);
    assert.equal(doc.cas, cas);
    assert.ok(doc.ttl > 290 && doc.ttl <= 300);
  });

  it('a key that never expires says "never" (null in JSON)', async () => {
    await cli(['set', 'op:forever', 'x', ...one]);
    const r = await cli(['get', 'op:forever', '-v', ...one]);
    assert.match(r.stderr, /^ttl: never$/m);
    assert.equal(json((await cli(['get', 'op:forever', '-v', '--json', ...one])).stdout).ttl, null);
  });
});

describe('touch, incr, decr', () => {
  it('touch sets the TTL; a missing key exits 1', async () => {
    await cli(['set', 'op:touch', 'x', ...one]);
    const r = await cli(['touch', 'op:touch', '200', ...one]);
    assert.equal(r.code, 0, r.stderr);
    const ttl = Number(/ t(\d+)/.exec(await metaGet('op:touch', 't'))?.[1]);
    assert.ok(ttl > 190 && ttl <= 200, String(ttl));
    const miss = await cli(['touch', 'op:no-such', '5', ...one]);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /key not found: op:no-such/);
    const bad = await cli(['touch', 'op:touch', 'soon', ...one]);
    assert.equal(bad.code, 2);
  });

  it('incr/decr print the new value (default delta 1); a missing key exits 1', async () => {
    await cli(['set', 'op:n', '10', ...one]);
    const up = await cli(['incr', 'op:n', ...one]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, '11\n');
    const down = await cli(['decr', 'op:n', '20', ...one]);
    assert.equal(down.stdout, '0\n', 'memcached stops at 0');
    const miss = await cli(['incr', 'op:no-counter', ...one]);
    assert.equal(miss.code, 1);
    assert.equal(miss.stdout, '');
    const bad = await cli(['incr', 'op:n', '-5', ...one]);
    assert.equal(bad.code, 2);
  });

  it('a counter beyond 2^53 is exact, and a string in JSON', async () => {
    await cli(['set', 'op:big', '18446744073709551610', ...one]);
    const r = await cli(['incr', 'op:big', '5', '--json', ...one]);
    assert.deepEqual(json(r.stdout), { key: 'op:big', value: '18446744073709551615' });
  });

  it("a value that is not a number: the server's error, exit 3", async () => {
    await cli(['set', 'op:text', 'abc', ...one]);
    const r = await cli(['incr', 'op:text', ...one]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /non-numeric value/);
    assertNoStack(r.stderr);
  });
});

describe('flush', () => {
  let server: MemcachedProcess;
  before(async () => {
    server = await startMemcached();
  });

  it('refuses without --yes (exit 2) and flushes nothing', async () => {
    await cli(['set', 'op:keep', 'x', '--servers', server.address]);
    const r = await cli(['flush', '--servers', server.address]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalidates every item on every server; add --yes/);
    assert.equal((await cli(['get', 'op:keep', '--servers', server.address])).code, 0);
  });

  it('with --yes flushes every server and prints one row per server', async () => {
    await cli(['set', 'op:gone', 'x', '--servers', server.address]);
    const r = await cli(['flush', '--yes', '--servers', server.address]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${server.address.replaceAll('.', '\\.')}\\s+flushed$`, 'm'));
    assert.equal((await cli(['get', 'op:gone', '--servers', server.address])).code, 1);
  });

  it('--delay leaves the items until then; --json has a row per server, an unreachable one exits 3', async () => {
    await cli(['set', 'op:later', 'x', '--servers', server.address]);
    const port = await closedPort();
    const r = await cli([
      'flush',
      '--yes',
      '--delay',
      '600',
      '--json',
      '--servers',
      `${server.address},127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 3);
    const [done, down] = json(r.stdout);
    assert.deepEqual(done, { server: server.address, flushed: true, delay: 600 });
    assert.equal(down.error.code, 'CONNECTION');
    assert.equal((await cli(['get', 'op:later', '--servers', server.address])).code, 0, 'not flushed yet');
  });
});

describe('top', () => {
  const HEADER = /^server\s+ops\/s\s+hit%\s+latency_ms\s+connections\s+evicted\s+evictions$/;

  it('not on a terminal: one table per refresh, separated by a blank line; an unreachable server has its row (exit 3)', async () => {
    const port = await closedPort();
    const r = await cli([
      'top',
      '--interval',
      '50',
      '--count',
      '3',
      '--servers',
      `${servers[0]!.address},127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 3, r.stderr);
    const tables = r.stdout.trimEnd().split('\n\n');
    assert.equal(tables.length, 3, r.stdout);
    for (const table of tables) {
      const [header, up, down] = table.split('\n');
      assert.match(header!, HEADER);
      assert.match(
        up!,
        new RegExp(
          `^${servers[0]!.address.replaceAll('.', '\\.')}\\s+\\d+\\s+(-|\\d+\\.\\d)\\s+\\d+\\.\\d\\d\\s+\\d+\\s+\\d+\\s+\\d+$`,
        ),
      );
      assert.match(down!, new RegExp(`^127\\.0\\.0\\.1:${port}\\s+unreachable$`));
    }
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no ANSI codes in a pipe');
  });

  it('--json: one JSON line per refresh (NDJSON) with numbers', async () => {
    const r = await cli(['top', '--interval', '50', '--count', '3', '--json', ...both]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.deepEqual(
        line.servers.map((s: { server: string }) => s.server),
        servers.map((s) => s.address),
      );
      for (const s of line.servers) {
        assert.equal(typeof s.opsPerSecond, 'number');
        assert.equal(typeof s.latencyMs, 'number');
        assert.ok(s.connections >= 1);
        assert.equal(s.evictions, 0);
      }
    }
  });

  it('counts the traffic of the interval: ops/s and hit ratio', async () => {
    const server = await startMemcached();
    const args = ['top', '--interval', '400', '--count', '2', '--json', '--servers', server.address];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const firstLine = new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (t: string) => {
        stdout += t;
        if (stdout.includes('\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // After the first refresh, 3 hits and 1 miss (and a set) fall in the second interval.
    await firstLine;
    await rawCommand(server.target, 'set a 0 0 1\r\nx\r\nget a\r\nget a\r\nget a\r\nget b\r\n', {
      until: /(END\r\n.*){4}/s,
    });
    assert.equal(await exited, 0);
    const [first, second] = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).servers[0]);
    assert.equal(first.hitRatio, null, 'no gets in the first interval');
    assert.equal(second.hitRatio, 0.75);
    // 5 commands (cmd_get 4, cmd_set 1) in the ~0.4 s between samples; a slow machine stretches it.
    assert.ok(second.opsPerSecond > 0 && second.opsPerSecond <= 5 / 0.4, String(second.opsPerSecond));
  });

  it('Ctrl-C stops it with exit 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'top', '--interval', '50', ...one], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const firstTable = new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (t: string) => {
        stdout += t;
        if (stdout.includes('\n\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await firstTable;
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  it('on a terminal: hides the cursor, redraws in place (cursor home + clear) and restores the cursor', async () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = new PassThrough();
    let out = '';
    stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    const code = await runCli(['top', '--interval', '50', '--count', '2', ...one], { stdout, stderr });
    assert.equal(code, 0);
    assert.ok(out.startsWith('\x1b[?25l'), JSON.stringify(out.slice(0, 20)));
    assert.ok(out.endsWith('\x1b[?25h'));
    const frames = out.split('\x1b[H\x1b[2J').slice(1);
    assert.equal(frames.length, 2);
    for (const frame of frames) {
      assert.match(frame, /^memcached-cache top {2}every 50 ms/);
      assert.match(frame, /^server\s+ops\/s/m);
    }
  });
});

describe('a malformed reply', () => {
  it('is reported with what was received, quoted and escaped', async () => {
    // No memcached sends garbage, so this one peer is fake: it answers `version` (the client's
    // handshake) like memcached, and every other line with bytes no memcached sends.
    const fake = createServer((socket) =>
      socket.on('data', (data) => {
        for (const line of data.toString('latin1').split('\r\n').filter(Boolean))
          socket.write(line.startsWith('version') ? 'VERSION 1.6.21\r\n' : 'HELLO\x01 garbage\r\n');
      }),
    );
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as { port: number }).port;
      const r = await cli(['get', 'k', '--servers', `127.0.0.1:${port}`]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        /Malformed response from server: an unexpected response line was received: "HELLO\\x01 garbage"/,
      );
      assertNoStack(r.stderr);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
