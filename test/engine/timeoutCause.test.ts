// A caller's TimeoutError says where the time went (issue 22, item 7), scripted with no server:
// an Operation and the client's DeadlineQueue on a scripted clock, sending through a Pool of
// scripted connections. `details.cause` is 'local-queue' (waited in this process), 'event-loop'
// (our loop could not read the reply) or 'server' (written in time, loop responsive, no reply).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ITEM_FLAGS, MetaGetCommand } from '../../src/client/Command.js';
import { DeadlineQueue } from '../../src/client/DeadlineQueue.js';
import { Operation, type OperationHost } from '../../src/client/Operation.js';
import type { MemcachedCacheError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import { TickClock } from '../../src/transport/Clock.js';
import { Pool } from '../../src/transport/Pool.js';
import { ScriptedClock, ScriptedConnection } from '../transport/scripted.js';

const ENDPOINT = { id: 'test:11211', host: 'test', port: 11211 };

function world(requestTimeoutMs = 1000) {
  const clock = new ScriptedClock();
  const opened: ScriptedConnection[] = [];
  const pool = new Pool(ENDPOINT, {
    maxConnections: 1,
    idleTimeoutMs: 0,
    connectTimeoutMs: 60_000,
    // The pipeline's own judgment stays out of these scenarios: callers' deadlines only.
    requestTimeoutMs: 60_000,
    maxValueBytes: 1024,
    clock,
    connectionFactory: (endpoint) => {
      const connection = new ScriptedConnection(endpoint, clock, 60_000);
      opened.push(connection);
      return connection;
    },
  });
  const host: OperationHost = {
    requestTimeoutMs,
    retries: 0,
    closed: false,
    clock,
    callClock: new TickClock(clock),
    deadlines: new DeadlineQueue(clock),
    route: () => ENDPOINT.id,
    poolFor: () => pool,
    release: () => {},
    ttlCap: () => null,
    home: () => ENDPOINT.id,
    groupByServer: (keys) => new Map([[ENDPOINT.id, [...keys]]]),
    isOut: () => false,
  };
  const call = (key: string) => {
    const outcome: { value?: unknown; error?: MemcachedCacheError } = {};
    const command = new MetaGetCommand('get', encodeKey(key, 250), ITEM_FLAGS, (r) => r);
    new Operation(
      host,
      command,
      1,
      undefined,
      (value) => {
        outcome.value = value;
      },
      (error) => {
        outcome.error = error as MemcachedCacheError;
      },
    ).start();
    return outcome;
  };
  return { clock, opened, call };
}

describe('a timeout says where the time went', () => {
  it('held for a connection that never became ready: local-queue, never written, and never written later', () => {
    const { clock, opened, call } = world();
    const a = call('a');
    clock.advance(1001);
    assert.equal(a.error?.code, 'TIMEOUT');
    assert.equal(a.error?.details?.cause, 'local-queue');
    assert.equal(a.error?.details?.requestSent, false);
    assert.match(
      a.error!.message,
      /waited in this process for a connection to test:11211 and was never written/,
    );
    opened[0]!.accept();
    assert.deepEqual(opened[0]!.keysWritten, [], 'told "never sent": never written');
  });

  it('written at once, our loop responsive, no reply: the server', () => {
    const { clock, opened, call } = world();
    call('warm');
    opened[0]!.accept();
    const a = call('a');
    clock.advance(1001);
    assert.equal(a.error?.details?.cause, 'server');
    assert.match(a.error!.message, /^Server test:11211 did not answer within 1000 ms/);
    assert.equal(a.error?.details?.requestSent, undefined);
  });

  it('written at once, then our loop blocked past the deadline and the reply not yet read: the event loop', () => {
    const { clock, opened, call } = world();
    call('warm');
    opened[0]!.accept();
    const a = call('a');
    clock.advance(200);
    clock.stall(1500); // a long synchronous task of ours; the reply is not read in the poll after it
    clock.advance(30); // the deadline's grace after our stall
    assert.equal(a.error?.details?.cause, 'event-loop');
    assert.match(a.error!.message, /event loop was busy for \d+ ms while the request waited/);
    assert.equal(a.error?.details?.blockedMs, 700, 'the deadline timer fired 700 ms late');
  });

  it('written only after most of the budget was spent waiting for the connection: local-queue, with the wait', () => {
    const { clock, opened, call } = world();
    const a = call('a');
    clock.advance(700);
    opened[0]!.accept(); // the held request is written now, 700 ms into its 1,000 ms
    clock.advance(301);
    assert.equal(a.error?.details?.cause, 'local-queue');
    assert.equal(a.error?.details?.queuedMs, 700);
    assert.match(a.error!.message, /waited 700 ms in this process before it was written/);
  });
});
