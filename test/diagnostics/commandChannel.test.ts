// diagnostics_channel `memcached-cache:command`: one message per command, with the server it
// went to and its outcome, never the value.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { COMMAND_CHANNEL, type CommandMessage, commandChannel } from '../../src/client/diagnostics.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';

let servers: MemcachedProcess[];
let client: MemcachedClient;

async function capture(run: () => Promise<unknown>): Promise<CommandMessage[]> {
  const seen: CommandMessage[] = [];
  const listener = (message: unknown) => seen.push(message as CommandMessage);
  subscribe(COMMAND_CHANNEL, listener);
  try {
    await run().catch(() => {});
  } finally {
    unsubscribe(COMMAND_CHANNEL, listener);
  }
  return seen;
}

before(async () => {
  servers = await startMemcachedCluster(2);
  client = new MemcachedClient({
    servers: servers.map((s) => ({ id: s.address, host: s.host, port: s.port })),
  });
});
after(async () => {
  client.close();
  await stopAllMemcached();
});

describe('diagnostics channel memcached-cache:command', () => {
  it('has no subscribers by default (the client builds nothing then)', () => {
    assert.equal(commandChannel.hasSubscribers, false);
  });

  it('reports set, get hit, get miss, delete with the server each key maps to', async () => {
    const secret = 'top-secret-value-4711';
    const seen = await capture(async () => {
      await client.set('diag:a', secret);
      await client.get('diag:a');
      await client.get('diag:missing');
      await client.add('diag:a', secret);
      await client.delete('diag:a');
      await client.delete('diag:a');
    });
    assert.deepEqual(
      seen.map((m) => [m.command, m.key, m.outcome]),
      [
        ['set', 'diag:a', 'stored'],
        ['get', 'diag:a', 'hit'],
        ['get', 'diag:missing', 'miss'],
        ['add', 'diag:a', 'not_stored'],
        ['delete', 'diag:a', 'deleted'],
        ['delete', 'diag:a', 'not_found'],
      ],
    );
    for (const m of seen) {
      assert.equal(m.server, client.serverFor(m.key));
      assert.ok(typeof m.durationMs === 'number' && m.durationMs >= 0 && m.durationMs < 1000);
      assert.deepEqual(Object.keys(m).sort(), ['command', 'durationMs', 'key', 'outcome', 'server']);
      assert.ok(!JSON.stringify(m).includes(secret), 'a message must not carry the value');
    }
  });

  it('reports one message per key of a getMany batch, each with its own server', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `diag:many:${i}`);
    for (const key of keys.slice(0, 10)) await client.set(key, 'v');
    const seen = await capture(() => client.getMany(keys));
    assert.equal(seen.length, 20);
    assert.ok(new Set(seen.map((m) => m.server)).size === 2, 'keys should spread over both servers');
    for (const m of seen) {
      assert.equal(m.command, 'getMany');
      assert.equal(m.server, client.serverFor(m.key));
      assert.equal(m.outcome, keys.indexOf(m.key) < 10 ? 'hit' : 'miss');
    }
  });

  it('reports errors with the server that failed', async () => {
    const dead = new MemcachedClient({
      servers: [{ id: '127.0.0.1:1', host: '127.0.0.1', port: 1 }],
      retries: 0,
    });
    try {
      const seen = await capture(() => dead.get('diag:err'));
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.command, 'get');
      assert.equal(seen[0]!.server, '127.0.0.1:1');
      assert.equal(seen[0]!.outcome, 'error');
      assert.ok(seen[0]!.error instanceof Error);
      assert.match(seen[0]!.error.message, /ECONNREFUSED|refus/);
    } finally {
      dead.close();
    }
  });

  it('publishes nothing once the subscriber is gone', async () => {
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    subscribe(COMMAND_CHANNEL, listener);
    unsubscribe(COMMAND_CHANNEL, listener);
    await client.get('diag:a');
    assert.equal(seen.length, 0);
  });
});
