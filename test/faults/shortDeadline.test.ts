// Regression: a request with a deadline shorter than request_timeout (a retry gets only what is
// left of the op's budget, possibly 1 ms) must not be taken as proof that the server is stuck.
// Before the fix, such a request at the head of a healthy connection's queue timed out, the
// connection was destroyed with every request pipelined on it, each of those counted as a server
// failure, and a healthy server was ejected (seen in the SIGSTOP fault scenario).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { metaGet } from '../../src/protocol/RequestEncoder.js';
import { Connection } from '../../src/transport/Connection.js';
import { Request, RequestKind, reserveOpaques } from '../../src/transport/Request.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

function get(key: string, timeoutMs = 0): Request {
  const opaque = reserveOpaques(1);
  const request = new Request(RequestKind.Meta, metaGet(key, 'v', opaque), null, opaque, 0);
  request.key = key;
  request.timeoutMs = timeoutMs;
  return request;
}

describe('a short per-request deadline on a healthy connection', () => {
  let server: MemcachedProcess;
  before(async () => {
    server = await startMemcached();
  });
  after(stopAllMemcached);

  it('times out only that request; the connection and the requests behind it survive', async () => {
    const connection = new Connection(
      { id: server.address, host: server.host, port: server.port },
      { connectTimeoutMs: 1000, requestTimeoutMs: 1000, maxValueBytes: 1024 * 1024 },
    );
    try {
      await connection.ready;
      // Hold the server for 60 ms: longer than the short deadline, far shorter than request_timeout.
      await server.pauseAndWait();
      await sleep(20); // SIGSTOP lands asynchronously
      const short = assert.rejects(connection.send(get('short', 5)), { code: 'TIMEOUT' });
      const normal = connection.send(get('normal'));
      await sleep(60);
      server.resume();
      await short;
      const reply = await normal;
      assert.ok(reply !== null, 'the request behind the short one is answered');
      assert.equal(connection.isClosed, false, 'the healthy connection is kept');
      // And it stays in step: the late reply to the short request was consumed, not mistaken.
      assert.ok(await connection.send(get('after')));
    } finally {
      server.resume();
      connection.close();
    }
  });

  it('a short deadline behind a longer one still fires on time (deadlines are not in queue order)', async () => {
    const connection = new Connection(
      { id: server.address, host: server.host, port: server.port },
      { connectTimeoutMs: 1000, requestTimeoutMs: 1000, maxValueBytes: 1024 * 1024 },
    );
    try {
      await connection.ready;
      await server.pauseAndWait();
      await sleep(20);
      const normal = connection.send(get('normal'));
      const sent = performance.now();
      const short = connection.send(get('short', 20)).then(
        () => Number.NaN,
        () => performance.now() - sent,
      );
      await sleep(150);
      server.resume();
      const shortSettledAfter = await short;
      assert.ok(shortSettledAfter < 100, `the 20 ms request settled after ${shortSettledAfter} ms`);
      assert.ok(await normal);
      assert.equal(connection.isClosed, false);
    } finally {
      server.resume();
      connection.close();
    }
  });

  it('a head that waited the full request_timeout still means a stuck server: the connection is replaced', async () => {
    const connection = new Connection(
      { id: server.address, host: server.host, port: server.port },
      { connectTimeoutMs: 1000, requestTimeoutMs: 100, maxValueBytes: 1024 * 1024 },
    );
    try {
      await connection.ready;
      await server.pauseAndWait();
      await sleep(20);
      const stuck = connection.send(get('stuck'));
      await assert.rejects(stuck, { code: 'TIMEOUT' });
      await sleep(20);
      assert.equal(connection.isClosed, true);
    } finally {
      server.resume();
      connection.close();
    }
  });
});
