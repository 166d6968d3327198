// The outage rules without a server: a scripted clock and scripted pools (each records what is
// dispatched to it and answers when told). Eject → record → replay → re-admit, in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionError } from '../../src/component/errors.js';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import { OutageRecord } from '../../src/topology/OutageRecord.js';
import { type ServerEvents, Topology } from '../../src/topology/Topology.js';
import type { Pool } from '../../src/transport/Pool.js';
import type { Request } from '../../src/transport/Request.js';
import type { ServerEndpoint } from '../../src/transport/ServerEndpoint.js';
import { ScriptedClock } from '../transport/scripted.js';

const key = (k: string) => encodeKey(k, 250);

/** Lets promise callbacks run (the replay's `.then`s); not a wait for time. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A pool that records what it is given; the test answers each request itself. */
class ScriptedPool {
  readonly dispatched: Request[] = [];
  connects = 0;
  constructor(
    readonly endpoint: ServerEndpoint,
    readonly events: ServerEvents,
  ) {}
  dispatch(request: Request): void {
    this.dispatched.push(request);
  }
  connect(): Promise<void> {
    this.connects++;
    return Promise.resolve();
  }
  closeConnections(): void {}
  close(): void {}
  get size(): number {
    return 0;
  }
  /** Answers the oldest unanswered request as the server would (a batch of quiet md: no hits). */
  answer(): Request {
    const request = this.dispatched.shift()!;
    request.listener.onReply(request, request.collected ?? null);
    return request;
  }
  fail(): Request {
    const request = this.dispatched.shift()!;
    request.listener.onFailure(request, new ConnectionError('reset', { server: this.endpoint.id }));
    return request;
  }
}

function world(outageRecordSize = 100) {
  const clock = new ScriptedClock();
  const endpoints: ServerEndpoint[] = [1, 2, 3].map((i) => ({
    id: `10.0.0.${i}:11211`,
    host: `10.0.0.${i}`,
    port: 11211,
  }));
  const pools = new Map<string, ScriptedPool>();
  const topology = new Topology({
    servers: endpoints,
    failures: 1,
    retryMs: 0, // probed as soon as the scripted clock runs its timers
    outageRecordSize,
    failoverTtlSeconds: 60,
    clock,
    makePool: (endpoint, events) => {
      const pool = new ScriptedPool(endpoint, events);
      pools.set(endpoint.id, pool);
      return pool as unknown as Pool;
    },
  });
  const [a, b] = endpoints.map((e) => e.id) as [string, string];
  const keysOf = (id: string, n: number, tag: string) => {
    const out: string[] = [];
    for (let i = 0; out.length < n; i++)
      if (topology.home(key(`${tag}:${i}`)) === id) out.push(`${tag}:${i}`);
    return out;
  };
  const eject = (id: string) => pools.get(id)!.events.onServerFailure(new ConnectionError('refused'));
  /** The probe timer fires; the probe's connect succeeds. */
  const probe = async () => {
    clock.advance(20);
    await settle();
  };
  return { clock, topology, pools, a, b, keysOf, eject, probe };
}

describe('OutageRecord', () => {
  it('records each key once, only for a server it was begun for, and overflows past its limit', () => {
    const record = new OutageRecord(3);
    record.record('A', key('x'));
    assert.equal(record.size('A'), 0, 'not ejected: nothing recorded');
    record.begin('A');
    for (const k of ['x', 'y', 'x', 'z']) record.record('A', key(k));
    assert.equal(record.size('A'), 3);
    assert.deepEqual(
      record.take('A')?.keys.map((k) => k.key),
      ['x', 'y', 'z'],
    );
    assert.equal(record.take('A'), null, 'taken: nothing left');
    for (const k of ['a', 'b', 'c', 'd']) record.record('A', key(k));
    assert.equal(record.overflowed('A'), true);
    assert.equal(record.size('A'), 0, 'an overflowed record keeps no keys');
    assert.deepEqual(record.take('A'), { keys: [], flush: true });
  });

  it('gives failed work back, merged with what came since', () => {
    const record = new OutageRecord(10);
    record.begin('A');
    record.record('A', key('x'));
    const work = record.take('A')!;
    record.record('A', key('y'));
    record.restore('A', work);
    assert.deepEqual(
      record.take('A')?.keys.map((k) => k.key),
      ['y', 'x'],
    );
    record.end('A');
    assert.equal(record.has('A'), false);
  });
});

describe('Topology: eject → record → replay → re-admit', () => {
  it('records only changes routed away from their ejected home, caps their TTL, and nothing while all are in', () => {
    const { topology, a, b, keysOf, eject } = world();
    const [ofA] = keysOf(a, 1, 'k');
    const [ofB] = keysOf(b, 1, 'k');
    assert.equal(topology.routeChange(key(ofA!)), a);
    assert.equal(topology.takeFailoverTtl(), null, 'no server out: no cap');
    eject(a);
    assert.equal(topology.isAlive(a), false);
    const substitute = topology.routeChange(key(ofA!));
    assert.notEqual(substitute, a);
    assert.equal(topology.home(key(ofA!)), a, 'the home by the full list');
    assert.equal(topology.takeFailoverTtl(), 60);
    assert.equal(topology.takeFailoverTtl(), null, 'asked once per route');
    assert.equal(topology.routeChange(key(ofB!)), b);
    assert.equal(topology.takeFailoverTtl(), null, 'a key of a live server is not capped');
    topology.route(key(keysOf(a, 2, 'k')[1]!)); // a read
    assert.equal(topology.outageRecordSize(a), 1, 'only the change of a key of A is recorded');
  });

  it('deletes the recorded keys on the server before it rejoins; keys changed during the replay get a second round', async () => {
    const { topology, pools, a, keysOf, eject, probe } = world();
    const poolA = pools.get(a)!;
    const keys = keysOf(a, 3, 'r');
    eject(a);
    topology.routeChange(key(keys[0]!));
    topology.routeChange(key(keys[1]!));
    await probe();
    assert.ok(poolA.connects >= 1, 'probed');
    assert.equal(topology.isAlive(a), false, 'answered the probe, but not back before the replay');
    assert.equal(poolA.dispatched.length, 1, 'one replay, however many probes answer meanwhile');
    const first = poolA.dispatched[0]!.payload as string;
    const opaque = poolA.dispatched[0]!.opaque;
    assert.equal(first, `md ${keys[0]} q O${opaque}\r\nmd ${keys[1]} q O${opaque + 1}\r\nmn\r\n`);
    topology.routeChange(key(keys[2]!)); // written while the replay runs
    poolA.answer();
    await settle();
    assert.equal(topology.isAlive(a), false, 'one more key to delete first');
    assert.match(poolA.dispatched[0]!.payload as string, new RegExp(`^md ${keys[2]} q O\\d+\\r\\nmn\\r\\n$`));
    poolA.answer();
    await settle();
    assert.equal(topology.isAlive(a), true, 're-admitted once nothing is left');
    assert.equal(topology.route(key(keys[0]!)), a);
    assert.equal(topology.outageRecordSize(a), 0);
  });

  it('a replay that fails keeps the server out and its record for the next probe', async () => {
    const { topology, pools, a, keysOf, eject, probe } = world();
    const poolA = pools.get(a)!;
    eject(a);
    for (const k of keysOf(a, 5, 'f')) topology.routeChange(key(k));
    await probe();
    poolA.fail();
    await settle();
    assert.equal(topology.isAlive(a), false);
    assert.equal(topology.outageRecordSize(a), 5, 'the keys are kept');
    await probe();
    assert.equal(poolA.dispatched.length, 1, 'replayed again at the next probe');
    poolA.answer();
    await settle();
    assert.equal(topology.isAlive(a), true);
  });

  it('an overflowed record flushes the server before it rejoins', async () => {
    const { topology, pools, a, keysOf, eject, probe } = world(2);
    const poolA = pools.get(a)!;
    eject(a);
    for (const k of keysOf(a, 3, 'o')) topology.routeChange(key(k));
    await probe();
    assert.equal(poolA.dispatched[0]!.payload, 'flush_all\r\n');
    poolA.answer();
    await settle();
    assert.equal(topology.isAlive(a), true);
  });

  it('a server with nothing recorded rejoins at its probe, as before', async () => {
    const { topology, pools, a, eject, probe } = world();
    eject(a);
    await probe();
    assert.equal(pools.get(a)!.dispatched.length, 0);
    assert.equal(topology.isAlive(a), true);
  });
});
