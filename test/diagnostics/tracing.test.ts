// TracingChannels `memcached-cache:command` and `memcached-cache:connect`: the events of each
// traced action in order, with a context that names the command, the key (or the batch size), the
// server and the outcome — never the value.
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { type CommandTraceContext, commandTracing } from '../../src/client/diagnostics.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import type { ConnectTraceContext } from '../../src/transport/tracing.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';

let servers: MemcachedProcess[];
let client: MemcachedClient;

type Event = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

/** Records every event of `name` while `run` runs: [event, context] in order. */
async function record<C>(name: string, run: () => Promise<unknown>): Promise<Array<[Event, C]>> {
  const seen: Array<[Event, C]> = [];
  const channel = tracingChannel(name);
  const handlers = {
    start: (c: unknown) => seen.push(['start', c as C]),
    end: (c: unknown) => seen.push(['end', c as C]),
    asyncStart: (c: unknown) => seen.push(['asyncStart', c as C]),
    asyncEnd: (c: unknown) => seen.push(['asyncEnd', c as C]),
    error: (c: unknown) => seen.push(['error', c as C]),
  };
  channel.subscribe(handlers);
  try {
    await run().catch(() => {});
  } finally {
    channel.unsubscribe(handlers);
  }
  return seen;
}

/** The contexts of the actions that finished, in order. */
const finished = <C>(events: Array<[Event, C]>) => events.filter(([e]) => e === 'asyncEnd').map(([, c]) => c);

const deadServer = () =>
  new MemcachedClient({ servers: [{ id: '127.0.0.1:1', host: '127.0.0.1', port: 1 }], retries: 0 });

before(async () => {
  servers = await startMemcachedCluster(2);
  client = new MemcachedClient({
    servers: servers.map((s) => ({ id: s.address, host: s.host, port: s.port })),
  });
  await client.connect();
});
after(async () => {
  client.close();
  await stopAllMemcached();
});

describe('TracingChannel memcached-cache:command', () => {
  it('has no subscribers by default (the client builds nothing then)', () => {
    assert.equal(commandTracing.hasSubscribers, false);
  });

  it('start, end, asyncStart, asyncEnd for each command, one context, with key, server and outcome', async () => {
    const secret = 'top-secret-value-4711';
    const events = await record<CommandTraceContext>('memcached-cache:command', async () => {
      await client.set('trace:a', secret);
      await client.get('trace:a');
      await client.get('trace:missing');
      await client.add('trace:a', secret);
      await client.delete('trace:a');
    });
    assert.deepEqual(
      events.slice(0, 4).map(([e]) => e),
      ['start', 'end', 'asyncStart', 'asyncEnd'],
    );
    assert.equal(events[0]![1], events[3]![1], 'one context object for the whole action');
    assert.deepEqual(
      finished(events).map((c) => [c.command, c.key, c.outcome, c.hit]),
      [
        ['set', 'trace:a', 'stored', undefined],
        ['get', 'trace:a', 'hit', true],
        ['get', 'trace:missing', 'miss', false],
        ['add', 'trace:a', 'not_stored', undefined],
        ['delete', 'trace:a', 'deleted', undefined],
      ],
    );
    for (const context of finished(events)) {
      const server = servers.find((s) => s.address === client.serverFor(context.key!))!;
      assert.deepEqual(
        [context.server, context.serverAddress, context.serverPort],
        [server.address, server.host, server.port],
      );
      assert.ok(!JSON.stringify(context).includes(secret), 'a context must not carry the value');
      assert.equal(context.error, undefined);
    }
  });

  it('a getMany is one action per server it reads from, with keyCount, batchSize and hits', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `trace:many:${i}`);
    for (const key of keys.slice(0, 30)) await client.set(key, 'v');
    const contexts = finished(
      await record<CommandTraceContext>('memcached-cache:command', () => client.getMany(keys)),
    );
    assert.equal(contexts.length, 2, 'the keys spread over both servers');
    assert.deepEqual(
      contexts.map((c) => c.command),
      ['getMany', 'getMany'],
    );
    assert.equal(
      contexts.reduce((n, c) => n + c.keyCount!, 0),
      100,
    );
    assert.equal(
      contexts.reduce((n, c) => n + c.hits!, 0),
      30,
    );
    for (const c of contexts) {
      assert.equal(c.batchSize, c.keyCount);
      assert.equal(c.key, undefined);
    }
  });

  it('a failure publishes error then asyncStart and asyncEnd, with the error on the context', async () => {
    const dead = deadServer();
    try {
      const events = await record<CommandTraceContext>('memcached-cache:command', () =>
        dead.get('trace:err'),
      );
      assert.deepEqual(
        events.map(([e]) => e),
        ['start', 'end', 'error', 'asyncStart', 'asyncEnd'],
      );
      const context = events[4]![1];
      assert.deepEqual([context.serverAddress, context.serverPort], ['127.0.0.1', 1]);
      assert.match(String(context.error), /ECONNREFUSED|refus/);
    } finally {
      dead.close();
    }
  });

  it('publishes nothing once the subscriber is gone', async () => {
    const channel = tracingChannel('memcached-cache:command');
    const seen: unknown[] = [];
    const handlers = { start: (c: unknown) => seen.push(c) };
    channel.subscribe(handlers as never);
    channel.unsubscribe(handlers as never);
    await client.get('trace:a');
    assert.equal(seen.length, 0);
    assert.equal(commandTracing.hasSubscribers, false);
  });
});

describe('TracingChannel memcached-cache:connect', () => {
  it('traces each new connection with its server; a refused one carries the error', async () => {
    const [first] = servers as [MemcachedProcess];
    const fresh = new MemcachedClient({
      servers: [{ id: first.address, host: first.host, port: first.port }],
    });
    const dead = deadServer();
    try {
      const events = await record<ConnectTraceContext>('memcached-cache:connect', async () => {
        await fresh.connect();
        await dead.connect().catch(() => {});
      });
      const [ok, refused] = finished(events);
      assert.deepEqual(
        [ok!.server, ok!.serverAddress, ok!.serverPort, ok!.tls, ok!.error],
        [first.address, first.host, first.port, false, undefined],
      );
      assert.equal(refused!.server, '127.0.0.1:1');
      assert.match(String(refused!.error), /ECONNREFUSED/);
    } finally {
      fresh.close();
      dead.close();
    }
  });
});
