// Server health on three real servers: a SIGSTOPped server times out, is ejected after
// `failures` failures, its keys move to the others, and it rejoins after `retry`; the same for a
// killed and restarted server. Plus AbortSignal handling while a server does not answer.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { AbortError, ConnectionError, TimeoutError } from '../../src/component/errors.js';
import {
  type MemcachedProcess,
  rawCommand,
  recordConnects,
  recordSockets,
  startMemcached,
  startMemcachedCluster,
  stopAllMemcached,
} from '../support/index.js';
import { closeAll, makeClient, pauseAndWait, timed, waitFor } from './helpers.js';

const HEALTH = { requestTimeoutMs: 300, failures: 2, retryMs: 1000, retries: 0 } as const;

function keysOn(client: MemcachedClient, server: MemcachedProcess, count: number, tag: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${tag}:${i}`;
    if (client.serverFor(key) === server.address) keys.push(key);
  }
  return keys;
}

async function totalConnections(server: MemcachedProcess): Promise<number> {
  return (await connectionStats(server)).total;
}

/** The server's `total_connections` and `curr_connections`, each counting the stats socket itself. */
async function connectionStats(server: MemcachedProcess): Promise<{ total: number; curr: number }> {
  const text = (await rawCommand(server.target, 'stats\r\n', { until: 'END\r\n' })).toString('latin1');
  return {
    total: Number(/^STAT total_connections (\d+)\r$/m.exec(text)![1]),
    curr: Number(/^STAT curr_connections (\d+)\r$/m.exec(text)![1]),
  };
}

describe('server health with three real servers', () => {
  let servers: MemcachedProcess[];

  before(async () => {
    servers = await startMemcachedCluster(3);
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('SIGSTOP: timeouts, ejection after `failures`, keys move to the others, rejoin after resume', async () => {
    const client = makeClient(servers, HEALTH);
    await client.connect();
    const victim = servers[0]!;
    const victimKeys = keysOn(client, victim, 4, 'stop');
    const otherKey = keysOn(client, servers[1]!, 1, 'stop-other')[0]!;
    await Promise.all([...victimKeys, otherKey].map((k) => client.set(k, `before:${k}`)));

    await pauseAndWait(victim);
    try {
      // First failure: a TimeoutError within the request timeout; the server is still in.
      const first = await timed(client.get(victimKeys[0]!));
      assert.ok(first.error instanceof TimeoutError, `got ${String(first.error)}`);
      assert.equal(first.error.code, 'TIMEOUT');
      assert.equal(first.error.server, victim.address);
      assert.ok(
        first.ms >= 250 && first.ms <= HEALTH.requestTimeoutMs + 150,
        `first timeout after ${first.ms} ms`,
      );
      assert.equal(client.cluster.isAlive(victim.address), true, 'one failure does not eject');
      // Keys of the healthy servers are unaffected meanwhile.
      assert.equal((await client.get(otherKey))?.value.toString(), `before:${otherKey}`);

      // The stuck connection is judged (a written request unanswered for request_timeout) and
      // dropped: one failure per connection-level event, however many calls it carried. Waited
      // for, so the next call certainly goes to a fresh connection: sent while the caller's
      // deadline beat the judgment by a moment, it joined the stuck connection, and the server
      // was rightly judged once for both (a race of this test, seen failing 2 of 4 runs).
      assert.ok(
        await waitFor(() => (client.connectionCounts().get(victim.address) ?? 0) === 0, 2000),
        'the stuck connection is dropped',
      );
      assert.equal(client.cluster.isAlive(victim.address), true, 'one failure does not eject');

      // Second failure (a write this time, on a fresh connection to the stopped server).
      const second = await timed(client.set(victimKeys[1]!, 'during'));
      assert.ok(second.error instanceof TimeoutError, `got ${String(second.error)}`);
      assert.ok(second.ms <= HEALTH.requestTimeoutMs + 150, `second timeout after ${second.ms} ms`);
      // The server is judged by its connections (a written request unanswered for
      // request_timeout), not by the caller's deadline: the second judgment lands around the
      // second caller's timeout (later if a busy machine makes our timers late: that is not
      // held against the server).
      assert.ok(
        await waitFor(() => !client.cluster.isAlive(victim.address), 3000),
        'ejected after 2 failures',
      );
      assert.ok(!client.cluster.routing.includes(victim.address));

      // Its keys now go to the other servers: set and get succeed, quickly.
      for (const key of victimKeys) {
        assert.notEqual(client.serverFor(key), victim.address);
        const write = await timed(client.set(key, `moved:${key}`));
        assert.ok(write.ok, String(write.error));
        assert.ok(write.ms < 250, `set took ${write.ms} ms`);
        assert.equal((await client.get(key))?.value.toString(), `moved:${key}`);
      }
    } finally {
      victim.resume();
    }

    // After resume and the retry time, a probe brings it back.
    const rejoined = await waitFor(() => client.cluster.isAlive(victim.address), 3000);
    assert.ok(rejoined, 'the resumed server rejoined');
    assert.ok(client.cluster.routing.includes(victim.address));
    for (const key of victimKeys) assert.equal(client.serverFor(key), victim.address);
    // Its old copies of the keys rewritten meanwhile were deleted before it rejoined (the outage
    // replay): a miss, never the value from before the outage.
    assert.equal(await client.get(victimKeys[2]!), null);
    await client.set(victimKeys[0]!, 'after');
    assert.equal((await client.get(victimKeys[0]!))?.value.toString(), 'after');
    client.close();
  });

  test('SIGKILL: ConnectionError at once, ejection, keys move; restart → rejoin', async () => {
    const client = makeClient(servers, HEALTH);
    await client.connect();
    const victim = servers[2]!;
    const victimKeys = keysOn(client, victim, 3, 'kill');
    await Promise.all(victimKeys.map((k) => client.set(k, 'before')));

    await victim.kill();
    const first = await timed(client.get(victimKeys[0]!));
    assert.ok(first.error instanceof ConnectionError, `got ${String(first.error)}`);
    assert.equal(first.error.code, 'CONNECTION');
    assert.ok(first.ms < 200, `ConnectionError after ${first.ms} ms`);
    const second = await timed(client.get(victimKeys[1]!));
    assert.ok(second.error instanceof ConnectionError, `got ${String(second.error)}`);
    assert.ok(second.ms < 200, `ConnectionError after ${second.ms} ms`);
    assert.equal(client.cluster.isAlive(victim.address), false);

    for (const key of victimKeys) {
      await client.set(key, 'moved');
      assert.equal((await client.get(key))?.value.toString(), 'moved');
    }

    await victim.restart();
    const rejoined = await waitFor(() => client.cluster.isAlive(victim.address), 3000);
    assert.ok(rejoined, 'the restarted server rejoined');
    for (const key of victimKeys) {
      assert.equal(client.serverFor(key), victim.address);
      assert.equal(await client.get(key), null, 'a restarted memcached is empty');
    }
    await client.set(victimKeys[0]!, 'after');
    assert.equal((await client.get(victimKeys[0]!))?.value.toString(), 'after');
    client.close();
  });

  test('with retries, an idempotent read of a dead server fails over within one call', async () => {
    const client = makeClient(servers, { requestTimeoutMs: 1000, failures: 1, retryMs: 60_000, retries: 2 });
    await client.connect();
    const victim = servers[1]!;
    const key = keysOn(client, victim, 1, 'failover')[0]!;
    await victim.kill();
    try {
      // The first attempt fails, ejects the server (failures: 1) and the retry reads the new owner.
      const read = await timed(client.get(key));
      assert.ok(read.ok, String(read.error));
      assert.equal(read.value, null);
      assert.notEqual(client.serverFor(key), victim.address);
    } finally {
      await victim.restart();
    }
    client.close();
  });
});

describe('AbortSignal and stalled handshakes', () => {
  let server: MemcachedProcess;

  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('an already aborted signal rejects with AbortError (code ABORTED) on every call', async () => {
    const client = makeClient([server]);
    await client.set('ab:k', 'v');
    const signal = AbortSignal.abort();
    const calls: Array<() => Promise<unknown>> = [
      () => client.get('ab:k', { signal }),
      () => client.set('ab:k', 'x', { signal }),
      () => client.getMany(['ab:k', 'ab:j'], { signal }),
      () => client.delete('ab:k', { signal }),
      () => client.incr('ab:n', 1, { signal }),
      () => client.touch('ab:k', 10, { signal }),
      () => client.gat('ab:k', 10, { signal }),
      () => client.getOrLease('ab:lease', 10, { signal }),
      () => client.version({ signal }),
      () => client.stats('', { signal }),
      () => client.flush(0, { signal }),
    ];
    for (const call of calls) {
      await assert.rejects(
        call(),
        (e: unknown) => e instanceof AbortError && e.code === 'ABORTED' && e.name === 'AbortError',
      );
    }
    // Nothing was sent: the set, delete and flush_all did not happen.
    assert.equal((await client.get('ab:k'))?.value.toString(), 'v');
    assert.equal(await client.get('ab:n'), null);
    assert.equal(client.connectionCounts().get(server.address), 1);
    // A fresh client does not even open a connection for an aborted call.
    const fresh = makeClient([server]);
    await assert.rejects(fresh.set('ab:k', 'y', { signal }), AbortError);
    assert.equal(fresh.connectionCounts().get(server.address), 0);
    assert.equal((await client.get('ab:k'))?.value.toString(), 'v');
    client.close();
  });

  test('aborting while the server is stopped rejects promptly; the same connection serves after resume', async () => {
    const client = makeClient([server], { requestTimeoutMs: 3000, poolSize: 1 });
    const opened = recordSockets();
    try {
      await client.set('ab:paused', 'value');
    } finally {
      opened.stop();
    }
    assert.equal(opened.sockets.length, 1, 'the client opened one socket');
    const socket = opened.sockets[0]!;
    const connectionsBefore = await totalConnections(server);

    await pauseAndWait(server);
    let abortedAt = 0;
    let result: Awaited<ReturnType<typeof timed>>;
    try {
      const controller = new AbortController();
      const written = socket.bytesWritten;
      const pending = timed(client.get('ab:paused', { signal: controller.signal }));
      const other = client.get('ab:paused'); // not aborted: must be answered after resume
      // Abort once the request is on the wire (written to the socket of the stopped server).
      assert.ok(await waitFor(() => socket.bytesWritten > written, 1000), 'the requests were written');
      abortedAt = performance.now();
      controller.abort();
      result = await pending;
      const sinceAbort = performance.now() - abortedAt;
      assert.ok(result.error instanceof AbortError, `got ${String(result.error)}`);
      assert.equal(result.error.code, 'ABORTED');
      assert.ok(sinceAbort < 50, `rejected ${sinceAbort} ms after abort()`);
      assert.ok(result.ms < 300, `rejected after ${result.ms} ms`);
      // Not a wait for an event: the aborted request stays unanswered on the connection for a
      // while, and that must not cost the connection (checked below: no reconnect).
      await sleep(100);
      server.resume();
      assert.equal((await other)?.value.toString(), 'value', 'the non-aborted request is answered');
    } finally {
      server.resume();
    }
    // Later requests are served by the same connection: the aborted reply was consumed in step.
    await client.set('ab:paused', 'changed');
    const items = await Promise.all(Array.from({ length: 50 }, () => client.get('ab:paused')));
    for (const item of items) assert.equal(item?.value.toString(), 'changed');
    assert.equal(client.connectionCounts().get(server.address), 1);
    assert.equal(
      await totalConnections(server),
      connectionsBefore + 1,
      'no reconnect (only our stats socket)',
    );
    client.close();
  });

  test('a stalled handshake: a non-idempotent write is retried on fresh connections only because it was never sent, and no abandoned connection applies it', async () => {
    await rawCommand(server.target, 'set hs:n 0 0 1\r\n0\r\n');
    const client = makeClient([server], { connectTimeoutMs: 150, requestTimeoutMs: 1000, retries: 3 });
    const base = await connectionStats(server);
    await pauseAndWait(server);
    const connects = recordConnects();
    let result: Awaited<ReturnType<typeof timed>>;
    try {
      // Each attempt opens a connection whose handshake never completes; incr is not idempotent,
      // so it may only be retried because it was held back, never written to those sockets.
      result = await timed(client.incr('hs:n', 1));
    } finally {
      server.resume();
      connects.stop();
    }
    assert.ok(
      result.error instanceof TimeoutError || result.error instanceof ConnectionError,
      `got ${String(result.error)}`,
    );
    assert.equal((result.error as TimeoutError).details?.requestSent, false);
    // It was retried: more than one connection was opened for it (each abandoned at its handshake).
    const attempts = connects.started.length;
    assert.ok(attempts >= 2, `${attempts} connection attempts: the write was not retried`);
    client.close();
    // The resumed server accepts every abandoned connection, reads what was written to it (a
    // written incr would be executed then) and closes it: wait until it has done so for all.
    let polls = 0;
    const drained = await waitFor(async () => {
      const now = await connectionStats(server);
      polls++;
      return now.total - base.total - polls >= attempts && now.curr <= base.curr;
    }, 3000);
    assert.ok(drained, `the resumed server has not closed all ${attempts} abandoned connections`);
    const raw = (await rawCommand(server.target, 'mg hs:n v\r\n', { until: /\r\n.*\r\n$/ })).toString(
      'latin1',
    );
    assert.equal(raw, 'VA 1\r\n0\r\n', 'the counter was not incremented by any abandoned connection');
    client.close();
  });

  test('an abort after the reply arrived changes nothing', async () => {
    const client = makeClient([server], { poolSize: 1 });
    const connects = recordConnects();
    const controller = new AbortController();
    await client.set('ab:late', 'v', { signal: controller.signal });
    const item = await client.get('ab:late', { signal: controller.signal });
    // A settled call leaves nothing listening on the signal: its abort reaches no request.
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'abort listeners left behind');
    controller.abort();
    assert.equal(item?.value.toString(), 'v');
    assert.equal((await client.get('ab:late'))?.value.toString(), 'v');
    // The connection that carried them is still the one in use: the abort did not close it.
    connects.stop();
    assert.equal(connects.started.length, 1, 'one connection, never replaced');
    assert.equal(client.connectionCounts().get(server.address), 1);
    client.close();
  });
});
