import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TextStatus } from '../../src/protocol/TextReply.js';
import {
  encodeTextKey,
  TextStore,
  textArithmetic,
  textCasHeader,
  textDelete,
  textGet,
  textStoreHeader,
  textTouch,
  textVersion,
  withDataBlock,
} from '../../src/protocol/TextRequestEncoder.js';
import { wireCas, wireFlags, wireTtl, wireUint64 } from '../../src/protocol/WireFields.js';
import {
  liveTwemproxyPids,
  type MemcachedProcess,
  RawCommandError,
  rawCommand,
  startMemcachedCluster,
  startTwemproxy,
  stopAllMemcached,
  stopAllTwemproxy,
  type TwemproxyProcess,
  textExchange,
  twemproxyConfig,
} from './index.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const exchange = textExchange;

const key = (k: string) => encodeTextKey(k, 250);
const ttl = (s: number) => wireTtl(s, 'ttl');
const flags = (f: number) => wireFlags(f, 'flags');

describe('test/support twemproxy harness', () => {
  let servers: MemcachedProcess[];
  let proxy: TwemproxyProcess;

  before(async () => {
    servers = await startMemcachedCluster(3);
    proxy = await startTwemproxy({ servers });
  });
  after(async () => {
    await stopAllTwemproxy();
    await stopAllMemcached();
  });

  test('the config lists every server under one pool, listening on loopback', () => {
    const yaml = twemproxyConfig('p', 1234, { servers: [{ host: '127.0.0.1', port: 11211 }] });
    assert.match(yaml, /^p:\n {2}listen: 127\.0\.0\.1:1234\n/);
    assert.match(yaml, /\n {3}- 127\.0\.0\.1:11211:1 server0\n/);
    assert.throws(() => twemproxyConfig('p', 1, { servers: [] }), /at least one server/);
  });

  test('it runs in the foreground as our child, on its own ports', () => {
    assert.ok(proxy.running);
    assert.ok(isAlive(proxy.pid));
    assert.ok(liveTwemproxyPids().includes(proxy.pid));
    assert.notEqual(proxy.port, proxy.statsPort);
    for (const s of servers) assert.notEqual(proxy.port, s.port);
    assert.match(proxy.log, new RegExp(`started on pid ${proxy.pid}`));
  });

  test('a raw text set/get round-trips through it, and lands on exactly one server', async () => {
    const set = await rawCommand(proxy.target, 'set smoke:1 5 0 5\r\nhello\r\n');
    assert.equal(set.toString('latin1'), 'STORED\r\n');
    const get = await rawCommand(proxy.target, 'get smoke:1\r\n', { until: 'END\r\n' });
    assert.equal(get.toString('latin1'), 'VALUE smoke:1 5 5\r\nhello\r\nEND\r\n');
    let holders = 0;
    for (const s of servers) {
      const direct = (await rawCommand(s.target, 'get smoke:1\r\n', { until: 'END\r\n' })).toString('latin1');
      if (direct.startsWith('VALUE smoke:1 5 5\r\n')) holders++;
    }
    assert.equal(holders, 1);
  });

  test('a meta command makes twemproxy close the connection, with no reply', async () => {
    // Any command it cannot parse does the same (`bogus`): the connection is its only error channel.
    for (const meta of ['mn\r\n', 'mg smoke:1 v\r\n', 'ms smoke:1 1\r\nx\r\n', 'bogus\r\n']) {
      await assert.rejects(rawCommand(proxy.target, meta), (error: unknown) => {
        assert.ok(error instanceof RawCommandError);
        assert.match(error.message, /connection closed before the reply was complete/);
        assert.equal(error.data.length, 0);
        return true;
      });
    }
    // Only that connection: the proxy itself still serves.
    assert.match((await rawCommand(proxy.target, 'version\r\n')).toString('latin1'), /^VERSION \d/);
  });

  test('the text encoder and parser speak to it: every command, pipelined, replies in order', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => key(`pipe:${i}`));
    const requests: Buffer[] = [];
    const add = (r: string | Buffer) => requests.push(typeof r === 'string' ? Buffer.from(r, 'latin1') : r);
    for (const [i, k] of keys.entries()) {
      const data = Buffer.from(`v${i}\r\n`); // CRLF inside data is data
      add(withDataBlock(textStoreHeader(TextStore.Set, k, data.length, ttl(60), flags(i)), data));
    }
    add(textGet(keys, false)); // spread over the 3 servers: one merged reply
    add(textGet([key('pipe:missing')], true));
    add(withDataBlock(textStoreHeader(TextStore.Add, keys[0]!, 1, ttl(0), flags(0)), Buffer.from('x')));
    add(withDataBlock(textStoreHeader(TextStore.Set, key('pipe:n'), 1, ttl(0), flags(0)), Buffer.from('5')));
    add(textArithmetic(key('pipe:n'), false, wireUint64(10, 'delta')));
    add(textArithmetic(key('pipe:n'), true, wireUint64(20, 'delta')));
    add(textTouch(keys[1]!, ttl(100)));
    add(textDelete(keys[2]!));
    add(textDelete(keys[2]!));
    add(textVersion());
    const replies = await exchange(proxy.target, Buffer.concat(requests), 12 + 10);
    const statuses = replies.map((r) => r.status);
    assert.deepEqual(statuses.slice(0, 12), Array(12).fill(TextStatus.Stored));
    const merged = replies[12]!;
    assert.equal(merged.status, TextStatus.Values);
    assert.deepEqual(
      merged.values!.map((v) => [v.key, v.clientFlags, v.value!.toString()]).sort(),
      keys.map((k, i) => [k.key, i, `v${i}\r\n`]).sort(),
    );
    assert.deepEqual(replies[13]!.values, []);
    assert.equal(replies[14]!.status, TextStatus.NotStored);
    assert.equal(replies[15]!.status, TextStatus.Stored);
    assert.equal(replies[16]!.number, 15n);
    assert.equal(replies[17]!.number, 0n); // decr stops at 0
    assert.equal(replies[18]!.status, TextStatus.Touched);
    assert.equal(replies[19]!.status, TextStatus.Deleted);
    assert.equal(replies[20]!.status, TextStatus.NotFound);
    assert.equal(replies[21]!.status, TextStatus.Version);
    assert.match(replies[21]!.text, /^\d+\.\d+/);
  });

  test('gets and cas through it: a stale CAS answers EXISTS', async () => {
    const k = key('cas:1');
    const put = (v: string) =>
      withDataBlock(textStoreHeader(TextStore.Set, k, v.length, ttl(0), flags(0)), Buffer.from(v));
    const [, read] = await exchange(
      proxy.target,
      Buffer.concat([put('a'), Buffer.from(textGet([k], true))]),
      2,
    );
    const cas = read!.values![0]!.cas;
    assert.match(cas, /^\d+$/);
    const casSet = (v: string) =>
      withDataBlock(textCasHeader(k, v.length, ttl(0), flags(0), wireCas(cas, 'cas')), Buffer.from(v));
    const replies = await exchange(proxy.target, Buffer.concat([casSet('b'), casSet('c')]), 2);
    assert.deepEqual(
      replies.map((r) => r.status),
      [TextStatus.Stored, TextStatus.Exists],
    );
  });

  test('a 512 KB value round-trips through it, arriving in many chunks', async () => {
    const k = key('large:1');
    const data = Buffer.alloc(512 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const requests = Buffer.concat([
      withDataBlock(textStoreHeader(TextStore.Set, k, data.length, ttl(60), flags(0)), data),
      Buffer.from(textGet([k], false)),
    ]);
    const [stored, read] = await exchange(proxy.target, requests, 2);
    assert.equal(stored!.status, TextStatus.Stored);
    assert.ok(read!.values![0]!.value!.equals(data));
  });

  test('a value too large for the servers: SERVER_ERROR through the proxy too, the stream in step', async () => {
    const data = Buffer.alloc(1100 * 1024, 3);
    const replies = await exchange(
      proxy.target,
      Buffer.concat([
        withDataBlock(textStoreHeader(TextStore.Set, key('large:2'), data.length, ttl(60), flags(0)), data),
        Buffer.from(textVersion()),
      ]),
      2,
    );
    assert.equal(replies[0]!.status, TextStatus.ServerError);
    assert.match(replies[0]!.text, /too large/);
    assert.equal(replies[1]!.status, TextStatus.Version);
  });

  test('stop() ends it by PID', async () => {
    const extra = await startTwemproxy({ servers: servers.slice(0, 1) });
    const pid = extra.pid;
    assert.ok(isAlive(pid));
    await extra.stop();
    assert.equal(extra.running, false);
    assert.equal(isAlive(pid), false);
    assert.ok(!liveTwemproxyPids().includes(pid));
  });
});

describe('twemproxy with a server down', () => {
  after(async () => {
    await stopAllTwemproxy();
    await stopAllMemcached();
  });

  test('a multi-get touching the dead server answers one SERVER_ERROR, no partial values', async () => {
    const servers = await startMemcachedCluster(2);
    const proxy = await startTwemproxy({ servers });
    const keys = Array.from({ length: 16 }, (_, i) => key(`down:${i}`));
    const sets = keys.map((k) =>
      withDataBlock(textStoreHeader(TextStore.Set, k, 1, ttl(60), flags(0)), Buffer.from('x')),
    );
    await exchange(proxy.target, Buffer.concat(sets), keys.length);
    // Which keys the server about to die holds, asked of it directly.
    const doomed = servers[1]!;
    const onDoomed = await exchange(
      { host: doomed.host, port: doomed.port },
      Buffer.from(textGet(keys, false)),
      1,
    );
    const lost = onDoomed[0]!.values!.map((v) => v.key);
    assert.ok(lost.length > 0 && lost.length < keys.length, `keys on the doomed server: ${lost.length}`);
    await doomed.kill();
    const [merged, single] = await exchange(
      proxy.target,
      Buffer.from(textGet(keys, false) + textGet([key(lost[0]!)], false)),
      2,
    );
    // The parser relies on this: an error replaces the whole get reply, never follows VALUEs.
    assert.equal(merged!.status, TextStatus.ServerError);
    assert.equal(merged!.values, null);
    assert.match(merged!.text, /refused|closed|reset/i);
    assert.equal(single!.status, TextStatus.ServerError);
  });
});
