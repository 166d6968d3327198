import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  livePids,
  type MemcachedProcess,
  rawCommand,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from './index.js';

const everyPid = new Set<number>();
const track = (p: MemcachedProcess): MemcachedProcess => {
  everyPid.add(p.pid);
  return p;
};
const tcp = (p: MemcachedProcess) => ({ host: p.host, port: p.port });
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('test/support memcached harness', () => {
  after(stopAllMemcached);

  test('starts 3 servers at once on distinct ports, each answers version', async () => {
    const cluster = (await startMemcachedCluster(3)).map(track);
    assert.equal(cluster.length, 3);
    assert.equal(new Set(cluster.map((p) => p.port)).size, 3);
    assert.equal(new Set(cluster.map((p) => p.pid)).size, 3);
    for (const p of cluster) {
      assert.equal(p.host, '127.0.0.1');
      assert.equal(p.address, `127.0.0.1:${p.port}`);
      assert.ok(p.running);
      assert.ok(p.args.includes('-p') && p.args.includes(String(p.port)));
      const reply = (await rawCommand(tcp(p), 'version\r\n')).toString('latin1');
      assert.match(reply, /^VERSION 1\.6/);
    }
  });

  test('ms / mg round trip through rawCommand', async () => {
    const p = track(await startMemcached());
    const set = (await rawCommand(tcp(p), 'ms harness:key 5 T0\r\nhello\r\n')).toString('latin1');
    assert.equal(set, 'HD\r\n');
    const got = (await rawCommand(tcp(p), 'mg harness:key v\r\nmn\r\n', { until: 'MN\r\n' })).toString(
      'latin1',
    );
    assert.equal(got, 'VA 5\r\nhello\r\nMN\r\n');
    const miss = (await rawCommand(tcp(p), 'mg harness:none v\r\nmn\r\n', { until: /MN\r\n$/ })).toString(
      'latin1',
    );
    assert.equal(miss, 'EN\r\nMN\r\n');
  });

  test('extra args are passed: -I 2m shows in stats settings', async () => {
    const p = track(await startMemcached({ args: ['-I', '2m'], memoryMb: 32, threads: 1 }));
    const settings = (await rawCommand(tcp(p), 'stats settings\r\n', { until: 'END\r\n' })).toString(
      'latin1',
    );
    assert.match(settings, /^STAT item_size_max 2097152\r$/m);
    assert.match(settings, /^STAT maxbytes 33554432\r$/m);
    assert.match(settings, /^STAT num_threads 1\r$/m);
  });

  test('unix socket server answers', async () => {
    const p = track(await startMemcached({ unixSocket: true }));
    assert.equal(p.port, 0);
    assert.ok(p.socketPath);
    assert.equal(p.address, p.socketPath);
    const reply = (await rawCommand({ socketPath: p.socketPath }, 'version\r\n')).toString('latin1');
    assert.match(reply, /^VERSION 1\.6/);
    await p.kill();
    await p.restart();
    track(p);
    const again = (await rawCommand({ socketPath: p.socketPath }, 'version\r\n')).toString('latin1');
    assert.match(again, /^VERSION 1\.6/);
  });

  test('pause() makes requests time out, resume() makes them answer again', async () => {
    const p = track(await startMemcached());
    p.pause();
    await assert.rejects(rawCommand(tcp(p), 'version\r\n', { timeoutMs: 300 }), /timed out/);
    assert.ok(p.running);
    p.resume();
    const reply = (await rawCommand(tcp(p), 'version\r\n')).toString('latin1');
    assert.match(reply, /^VERSION /);
  });

  test('stop() works on a paused server', async () => {
    const p = track(await startMemcached());
    p.pause();
    const started = Date.now();
    await p.stop();
    assert.ok(Date.now() - started < 1500, 'SIGCONT+SIGTERM should not need the SIGKILL fallback');
    assert.equal(p.running, false);
    assert.equal(isAlive(p.pid), false);
  });

  test('kill() + restart() comes back on the same port with a different pid', async () => {
    const p = track(await startMemcached());
    const { port, pid } = p;
    await p.kill();
    assert.equal(p.running, false);
    assert.equal(isAlive(pid), false);
    await assert.rejects(rawCommand(tcp(p), 'version\r\n', { timeoutMs: 300 }));
    await p.restart();
    track(p);
    assert.equal(p.port, port);
    assert.notEqual(p.pid, pid);
    assert.ok(p.running);
    assert.ok(livePids().includes(p.pid));
    assert.ok(!livePids().includes(pid));
    const reply = (await rawCommand(tcp(p), 'version\r\n')).toString('latin1');
    assert.match(reply, /^VERSION /);
    // restart() of a running server stops it first.
    const before = p.pid;
    await p.restart();
    track(p);
    assert.notEqual(p.pid, before);
    assert.equal(isAlive(before), false);
  });

  test('stopAllMemcached() leaves no process behind', async () => {
    assert.ok(livePids().length > 0);
    await stopAllMemcached();
    assert.deepEqual(livePids(), []);
    for (const pid of everyPid) assert.equal(isAlive(pid), false, `pid ${pid} still alive`);
  });
});
