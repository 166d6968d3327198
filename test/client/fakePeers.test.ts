// Peers that are NOT memcached (tiny node:net servers written here): an old server without the
// meta protocol, garbage talkers, and a peer whose replies do not match the requests (desync).
// These are not mocks of memcached; they stand for things a client may meet on the wire.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConnectionError,
  MemcachedCacheError,
  ProtocolError,
  TimeoutError,
  UnsupportedServerError,
} from '../../src/component/errors.js';
import {
  closeAll,
  type FakePeer,
  fakeEndpoint,
  makeClient,
  startFakePeer,
  timed,
  waitFor,
} from './helpers.js';

const peers: FakePeer[] = [];
async function peer(answer: Parameters<typeof startFakePeer>[0]): Promise<FakePeer> {
  const p = await startFakePeer(answer);
  peers.push(p);
  return p;
}

/** A peer that does the handshake like memcached 1.6 and answers every `mg` with `onGet`. */
function metaPeer(onGet: (line: string, opaque: string) => string | null): Promise<FakePeer> {
  return peer((line) => {
    if (line === 'version') return 'VERSION 1.6.18\r\n';
    if (line === 'mn') return 'MN\r\n';
    if (line.startsWith('mg ')) return onGet(line, /O(\d+)/.exec(line)?.[1] ?? '');
    return 'ERROR\r\n';
  });
}

after(async () => {
  closeAll();
  await Promise.all(peers.map((p) => p.close()));
});

describe('a server without the meta protocol', () => {
  test('VERSION 1.4.5 + ERROR → connect() rejects with UnsupportedServerError naming 1.4.5', async () => {
    const old = await peer((line) => (line === 'version' ? 'VERSION 1.4.5\r\n' : 'ERROR\r\n'));
    const client = makeClient([fakeEndpoint(old)], { connectTimeoutMs: 5000 });
    const result = await timed(client.connect());
    assert.ok(result.error instanceof UnsupportedServerError, `got ${String(result.error)}`);
    assert.equal(result.error.code, 'UNSUPPORTED_SERVER');
    assert.match(result.error.message, /1\.4\.5/);
    assert.equal(result.error.server, `127.0.0.1:${old.port}`);
    assert.ok(result.ms < 1000, `took ${result.ms} ms`);
    // An operation fails the same way, without hanging, and nothing but the handshake was sent.
    const get = await timed(client.get('k'));
    assert.ok(get.error instanceof UnsupportedServerError, `got ${String(get.error)}`);
    assert.ok(get.ms < 1000);
    // An `ms` data block would be read as a command by an old server: it must never be sent.
    // (Rejected as UnsupportedServerError, or by the pool's reconnect backoff as ConnectionError.)
    await assert.rejects(
      client.set('k', 'flush_all'),
      (e: unknown) => e instanceof UnsupportedServerError || e instanceof ConnectionError,
    );
    // Past the pool's reconnect backoff (25·2^n ms after n failed connects, here ≤ 200 ms): the
    // backoff is a time bound of the client's, waited out; then a fresh connection, a fresh
    // handshake, the same refusal.
    await sleep(300);
    await assert.rejects(client.set('k', 'flush_all'), UnsupportedServerError);
    assert.ok(
      old.lines.every((l) => l === 'version' || l === 'mn'),
      `sent: ${JSON.stringify(old.lines)}`,
    );
  });

  test('answers version, hangs up on mn, and a fresh connection does the same → UnsupportedServerError, not ejected', async () => {
    // What twemproxy does (tested against the real one in test/proxy/), here on a plain peer.
    const proxyLike = await peer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.18\r\n';
      socket.destroy();
      return null;
    });
    const client = makeClient([fakeEndpoint(proxyLike)], { connectTimeoutMs: 5000, failures: 1 });
    const result = await timed(client.connect());
    assert.ok(result.error instanceof UnsupportedServerError, `got ${String(result.error)}`);
    assert.match(result.error.message, /protocol: 'text'/);
    assert.equal(client.cluster.isAlive(`127.0.0.1:${proxyLike.port}`), true);
    assert.ok(result.ms < 1000, `took ${result.ms} ms`);
  });

  test('answers version, then goes away before mn (a shutdown) → ConnectionError, counted against it', async () => {
    let going: FakePeer | null = null;
    const dying = await peer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.18\r\n';
      // The server shuts down between the two commands: this connection and its listener close.
      socket.destroy();
      void going?.close();
      return null;
    });
    going = dying;
    const client = makeClient([fakeEndpoint(dying)], { connectTimeoutMs: 5000, failures: 1 });
    const result = await timed(client.connect());
    assert.ok(result.error instanceof ConnectionError, `got ${String(result.error)}`);
    assert.doesNotMatch(result.error.message, /meta protocol/);
    assert.equal(client.cluster.isAlive(`127.0.0.1:${dying.port}`), false, 'a failure: evidence');
  });

  test('hangs up on mn twice, then is gone (a SIGKILL landing during the probe) → ConnectionError, counted against it', async () => {
    // Seen in clean-clone CI: a killed memcached passed the version/mn probe on a loaded machine.
    let going: FakePeer | null = null;
    let hangUps = 0;
    const dying = await peer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.18\r\n';
      socket.destroy();
      if (++hangUps === 2) void going?.close();
      return null;
    });
    going = dying;
    const client = makeClient([fakeEndpoint(dying)], { connectTimeoutMs: 5000, failures: 1 });
    const result = await timed(client.connect());
    assert.equal(hangUps, 2, 'the handshake and the probe each sent mn');
    assert.ok(result.error instanceof ConnectionError, `got ${String(result.error)}`);
    assert.doesNotMatch(result.error.message, /meta protocol/);
    assert.equal(client.cluster.isAlive(`127.0.0.1:${dying.port}`), false, 'a failure: evidence');
  });

  test('close() while a hang-up is being checked ends the check: its socket closes at once', async () => {
    let versions = 0;
    let probeSocket: net.Socket | null = null;
    const slowProxy = await peer((line, socket) => {
      if (line === 'version') {
        // The handshake's `version` is answered; the check's is not, so the check waits.
        if (++versions === 1) return 'VERSION 1.6.18\r\n';
        probeSocket = socket;
        return null;
      }
      socket.destroy(); // `mn`: hang up, as twemproxy does
      return null;
    });
    const client = makeClient([fakeEndpoint(slowProxy)], { connectTimeoutMs: 5000 });
    const connecting = timed(client.connect());
    await waitFor(() => probeSocket !== null, 2000);
    const probeClosed = new Promise<void>((resolve) => probeSocket!.once('close', () => resolve()));
    const closing = timed(
      Promise.race([probeClosed, sleep(1000).then(() => Promise.reject(new Error('still open')))]),
    );
    client.close();
    const closed = await closing;
    assert.equal(closed.error, undefined, 'the check kept its socket open after close()');
    const result = await connecting;
    assert.ok(result.error instanceof ConnectionError, `got ${String(result.error)}`);
    assert.doesNotMatch(result.error.message, /meta protocol/);
  });

  test('close() during the handshake, after version: no check is started', async () => {
    const answered = await peer((line) => (line === 'version' ? 'VERSION 1.6.18\r\n' : null)); // `mn` never answered
    const client = makeClient([fakeEndpoint(answered)], { connectTimeoutMs: 5000 });
    const connecting = timed(client.connect());
    await waitFor(() => answered.lines.includes('mn'), 2000);
    client.close();
    const result = await connecting;
    assert.ok(result.error instanceof MemcachedCacheError, `got ${String(result.error)}`);
    // A check would open a second connection to the peer right after the first one closed.
    await sleep(100);
    assert.equal(answered.connections, 1, `lines: ${JSON.stringify(answered.lines)}`);
  });

  test('a peer that sends garbage → ProtocolError or UnsupportedServerError, no hang', async () => {
    const garbage: Array<string | Buffer> = [
      'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
      '-ERR unknown command\r\n', // redis
      '\x15\x03\x03\x00\x02\x02\x46', // a TLS alert, no line end
      Buffer.concat([Buffer.from([0x81, 0, 0, 0]), Buffer.alloc(20_000, 0xff)]), // binary protocol-ish, no CRLF
      'VERSION 1.6.18\r\nVA 3 O\r\nxyz\r\n',
      'VERSION 1.6.18\nMN\n', // bare LF
    ];
    for (const reply of garbage) {
      const bad = await peer((_line, socket) => {
        socket.write(reply);
        return null;
      });
      const client = makeClient([fakeEndpoint(bad)], { connectTimeoutMs: 400, requestTimeoutMs: 400 });
      const result = await timed(client.connect());
      const label = JSON.stringify(reply.toString('latin1').slice(0, 30));
      assert.ok(result.error instanceof MemcachedCacheError, `${label}: got ${String(result.error)}`);
      assert.ok(
        result.error instanceof ProtocolError ||
          result.error instanceof UnsupportedServerError ||
          result.error instanceof TimeoutError,
        `${label}: got ${result.error.name}: ${result.error.message}`,
      );
      // A reply that is invalid as soon as it is read fails at once; only a peer that sends an
      // incomplete line and then nothing has to wait for the connect timeout.
      const incomplete = !reply.includes('\n') && reply.length < 8192;
      if (incomplete) assert.ok(result.error instanceof TimeoutError, `${label}: ${result.error.name}`);
      else assert.ok(!(result.error instanceof TimeoutError), `${label} should not need a timeout`);
      assert.ok(result.ms < 900, `${label}: took ${result.ms} ms`);
      const get = await timed(client.get('k'));
      assert.ok(!get.ok && get.ms < 900, `${label}: get ${get.ok ? 'resolved' : `took ${get.ms} ms`}`);
      client.close();
    }
  });

  test('a peer that accepts and hangs up → ConnectionError, quickly', async () => {
    const rude = await peer((_line, socket) => {
      socket.destroy();
      return null;
    });
    const client = makeClient([fakeEndpoint(rude)], { connectTimeoutMs: 2000 });
    const result = await timed(client.connect());
    assert.ok(result.error instanceof ConnectionError, `got ${String(result.error)}`);
    assert.ok(result.ms < 500);
  });
});

describe('response desync', () => {
  test('a reply with a different opaque (VA 3 O999999 / bad) → ProtocolError, never "bad"', async () => {
    const liar = await metaPeer(() => 'VA 3 O999999\r\nbad\r\n');
    const client = makeClient([fakeEndpoint(liar)], { retries: 0 });
    await client.connect();
    await assert.rejects(client.get('k'), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, `got ${String(e)}`);
      assert.equal(e.code, 'PROTOCOL');
      assert.doesNotMatch(e.message, /\bbad\b/);
      return true;
    });
    // Many pipelined gets on one connection: none of them ever resolves with "bad".
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.get(`k${i}`)));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof ProtocolError);
    }
    // getMany too: a batched reply outside the batch's opaque range is a desync.
    await assert.rejects(client.getMany(['a', 'b']), ProtocolError);
  });

  test('with retries, a desync is not retried into a wrong value', async () => {
    const liar = await metaPeer(() => 'VA 3 O999999\r\nbad\r\n');
    const client = makeClient([fakeEndpoint(liar)], { retries: 3 });
    await assert.rejects(client.get('k'), ProtocolError);
  });

  test("replies in the wrong order (the other request's opaque) → ProtocolError for both", async () => {
    // Holds each mg until a second arrives, then answers them swapped: B's value first.
    const held: Array<{ opaque: string; key: string }> = [];
    let sockets = 0;
    const swapper = await peer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.18\r\n';
      if (line === 'mn') return 'MN\r\n';
      const m = /^mg (\S+) .*O(\d+)$/.exec(line);
      if (!m) return 'ERROR\r\n';
      held.push({ key: m[1]!, opaque: m[2]! });
      if (held.length < 2) return null;
      sockets++;
      const [a, b] = held.splice(0, 2) as [{ opaque: string; key: string }, { opaque: string; key: string }];
      socket.write(
        `VA ${b.key.length} O${b.opaque}\r\n${b.key}\r\nVA ${a.key.length} O${a.opaque}\r\n${a.key}\r\n`,
      );
      return null;
    });
    const client = makeClient([fakeEndpoint(swapper)], { retries: 0, poolSize: 1 });
    await client.connect();
    const [a, b] = await Promise.allSettled([client.get('keyA'), client.get('keyB')]);
    assert.equal(sockets, 1);
    for (const r of [a, b]) {
      assert.equal(r.status, 'rejected', 'a value for the wrong key must never be returned');
      assert.ok((r as PromiseRejectedResult).reason instanceof ProtocolError);
    }
  });

  test('a reply nobody asked for, or a meta reply without the opaque → ProtocolError', async () => {
    const noOpaque = await metaPeer(() => 'VA 3\r\nbad\r\n');
    const client = makeClient([fakeEndpoint(noOpaque)], { retries: 0 });
    await assert.rejects(client.get('k'), ProtocolError);

    // After the handshake, the peer pushes an unsolicited line (written by the test once the
    // client is connected, on the socket that did the handshake).
    const handshake: { socket?: net.Socket } = {};
    const chatty = await peer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.18\r\n';
      if (line === 'mn') {
        handshake.socket = socket;
        return 'MN\r\n';
      }
      return null;
    });
    const other = makeClient([fakeEndpoint(chatty)], { retries: 0 });
    await other.connect();
    assert.equal(other.connectionCounts().get(`127.0.0.1:${chatty.port}`), 1);
    assert.ok(handshake.socket, 'the handshake reached the peer');
    handshake.socket.write('VA 3 O1\r\nbad\r\n');
    await waitFor(() => other.connectionCounts().get(`127.0.0.1:${chatty.port}`) === 0, 2000);
    assert.equal(other.connectionCounts().get(`127.0.0.1:${chatty.port}`), 0, 'the connection was dropped');
  });
});
