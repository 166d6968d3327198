// The pool's rules with no socket: connections come from a factory (scripted ones here), time
// from a scripted clock. Growth up to pool_size, memcached's refusal (`-c`), the idle sweep, and
// where the requests of a failed connection go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemcachedCacheError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import { type MetaGetFlags, metaGet } from '../../src/protocol/RequestEncoder.js';
import { Pool, type PoolOptions } from '../../src/transport/Pool.js';
import { Request, RequestKind, reserveOpaques } from '../../src/transport/Request.js';
import { type Outcome, ScriptedClock, ScriptedConnection } from './scripted.js';

const ENDPOINT = { id: 'test:11211', host: 'test', port: 11211 };

/** A pool whose connections are scripted; `opened` lists them in the order the pool asked for them. */
function scriptedPool(options: Partial<PoolOptions> = {}) {
  const clock = new ScriptedClock();
  const opened: ScriptedConnection[] = [];
  const failures: MemcachedCacheError[] = [];
  let ready = 0;
  const pool = new Pool(ENDPOINT, {
    maxConnections: 3,
    idleTimeoutMs: 0,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    maxValueBytes: 1024,
    pipelineDepth: 2,
    clock,
    connectionFactory: (endpoint, connectionOptions) => {
      const connection = new ScriptedConnection(endpoint, clock, connectionOptions.requestTimeoutMs);
      opened.push(connection);
      return connection;
    },
    onServerFailure: (error) => failures.push(error),
    onServerReady: () => ready++,
    ...options,
  });
  const send = (key: string): { outcome: Outcome; request: Request; opaque: number } => {
    const opaque = reserveOpaques(1);
    const request = new Request(
      RequestKind.Meta,
      metaGet(encodeKey(key, 250), ' v' as MetaGetFlags, opaque),
      null,
      opaque,
      0,
    );
    request.key = key;
    const outcome: Outcome = {};
    request.listener = {
      onReply: (_r, value) => {
        outcome.value = value;
      },
      onFailure: (_r, error) => {
        outcome.error = error as MemcachedCacheError;
      },
    };
    pool.dispatch(request);
    return { outcome, request, opaque };
  };
  return { pool, clock, opened, failures, send, readyCount: () => ready };
}

/** Lets the pool's `ready` handlers (promise callbacks) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Pool: growth', () => {
  it('opens a connection on first use, another only when every one has pipelineDepth in flight, never past pool_size', () => {
    const { pool, opened, send } = scriptedPool({ pipelineDepth: 2, maxConnections: 3 });
    // Each connection completes its handshake at once (its version + mn count as in flight until then).
    const sendAccepting = (key: string): void => {
      const before = opened.length;
      send(key);
      if (opened.length > before) opened.at(-1)!.accept();
    };
    sendAccepting('a');
    assert.equal(opened.length, 1);
    sendAccepting('b');
    assert.equal(opened.length, 1, 'one connection holds pipelineDepth requests');
    sendAccepting('c');
    assert.equal(opened.length, 2, 'the first is at its depth: a second opens');
    for (const key of ['d', 'e', 'f', 'g', 'h', 'i', 'j']) sendAccepting(key);
    assert.equal(opened.length, 3);
    assert.equal(pool.size, 3, 'pool_size is the ceiling however deep the queues');
    assert.equal(pool.inflight, 10);
    assert.deepEqual(
      opened.map((c) => c.keysWritten.length),
      [4, 3, 3],
      'the least busy connection gets each request',
    );
  });
});

describe('Pool: refusal', () => {
  it('"Too many open connections" while another connection serves: growth stops, its requests go to the serving one, no failure counted', async () => {
    const { pool, opened, failures, send, clock } = scriptedPool({ pipelineDepth: 1, maxConnections: 3 });
    const a = send('a');
    opened[0]!.accept();
    const b = send('b'); // the first is at its depth: a second connection opens, b is held there
    assert.equal(opened.length, 2);
    opened[1]!.refuse();
    await settle();
    assert.equal(pool.size, 1);
    assert.deepEqual(
      opened[0]!.keysWritten,
      ['a', 'b'],
      'the held request was sent on the serving connection',
    );
    assert.equal(b.outcome.error, undefined);
    assert.equal(failures.length, 0, 'a server that turns extra sockets away is working');
    for (const key of ['c', 'd', 'e']) send(key);
    assert.equal(opened.length, 2, 'no new connection while the server refuses more');
    assert.deepEqual(opened[0]!.keysWritten, ['a', 'b', 'c', 'd', 'e']);
    opened[0]!.reply(`EN O${a.opaque}\r\nEN O${b.opaque}\r\n`);
    assert.ok(a.outcome.value && b.outcome.value);
    // After the backoff the pool may try again (memcached may have freed a slot).
    clock.advance(2000);
    send('f');
    assert.equal(opened.length, 3);
  });

  it('a refusal with no connection serving is a failure of the server', async () => {
    const { opened, failures, send } = scriptedPool();
    const a = send('a');
    opened[0]!.refuse();
    await settle();
    assert.equal(failures.length, 1);
    assert.equal(a.outcome.error?.details?.requestSent, false, 'never written: safe to retry');
  });
});

describe('Pool: idle sweep', () => {
  it('a quiet connection with a request in flight is busy, not idle: the sweep leaves it; once answered and idle, it closes', () => {
    const { pool, opened, send, clock } = scriptedPool({ idleTimeoutMs: 1000 });
    const a = send('a');
    opened[0]!.accept();
    clock.advance(5000); // no byte for 5 s, far past idle
    assert.equal(opened[0]!.isClosed, false, 'a busy connection is never swept');
    assert.equal(pool.size, 1);
    opened[0]!.reply(`EN O${a.opaque}\r\n`);
    assert.ok(a.outcome.value);
    clock.advance(999);
    assert.equal(opened[0]!.isClosed, false);
    clock.advance(1001);
    assert.equal(opened[0]!.isClosed, true, 'idle for `idle`: closed');
    assert.equal(pool.size, 0);
  });
});

describe('Pool: re-send of unsent requests', () => {
  it('a connection that fails during its handshake hands its never-written requests to a serving connection', async () => {
    const { opened, failures, send } = scriptedPool({ pipelineDepth: 1 });
    send('a');
    opened[0]!.accept();
    const b = send('b');
    const c = send('c');
    assert.equal(opened.length, 3);
    opened[1]!.reset();
    opened[2]!.reset();
    await settle();
    assert.deepEqual(
      opened[0]!.keysWritten,
      ['a', 'b', 'c'],
      'each request written once, on the serving one',
    );
    assert.equal(b.outcome.error, undefined);
    assert.equal(c.outcome.error, undefined);
    assert.equal(failures.length, 2, 'one failure per connection event');
  });

  it('a request whose caller gave up while it was held is not re-sent anywhere', async () => {
    const { opened, send } = scriptedPool({ pipelineDepth: 1 });
    send('a');
    opened[0]!.accept();
    const b = send('b');
    b.request.settled = true; // the caller timed out: it was told requestSent: false
    opened[1]!.reset();
    await settle();
    assert.deepEqual(opened[0]!.keysWritten, ['a']);
  });

  it('with no serving connection, never-written requests fail as never sent (a retry may send them again)', async () => {
    const { opened, send } = scriptedPool();
    const a = send('a');
    opened[0]!.reset();
    await settle();
    assert.equal(a.outcome.error?.code, 'CONNECTION');
    assert.equal(a.outcome.error?.details?.requestSent, false);
  });
});

describe('Pool: a slow server keeps its evidence', () => {
  it('after a too-slow judgement a handshake alone does not report the server ready; a connection that answers everything does', async () => {
    const { opened, failures, send, clock, readyCount } = scriptedPool({ requestTimeoutMs: 500 });
    const a = send('a');
    opened[0]!.accept();
    await settle();
    assert.equal(readyCount(), 1);
    const reply = `VA 5 O${a.opaque}\r\nhello\r\n`;
    for (let i = 0; i < 10 && !opened[0]!.isClosed; i++)
      clock.advance(100, () => opened[0]!.reply(reply[i]!));
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.details?.slow, true);
    const b = send('b');
    assert.equal(opened.length, 2);
    opened[1]!.accept(); // a slow server still completes handshakes (here: at once)
    await settle();
    assert.equal(readyCount(), 1, 'the handshake does not wipe out the evidence of slowness');
    opened[1]!.reply(`EN O${b.opaque}\r\n`);
    assert.ok(b.outcome.value);
    assert.equal(readyCount(), 2, 'a connection that answered all it was given: the server is up');
  });
});
