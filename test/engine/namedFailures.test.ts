// Defect 4 of "Engine 2": each failure names its real cause, and fails only what it concerns.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { ServerError, TimeoutError, ValueTooLargeError } from '../../src/component/errors.js';
import { closeAll, makeClient, pauseAndWait, waitFor } from '../client/helpers.js';
import { rawCommand, startMemcached, stopAllMemcached } from '../support/index.js';

after(async () => {
  closeAll();
  await stopAllMemcached();
});

/** Opens a plain socket to the server and waits for the reply to `version` (holds a connection slot). */
function holdSlot(port: number): Promise<{ socket: net.Socket; reply: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('version\r\n'));
    socket.once('error', reject);
    socket.once('data', (chunk) => resolve({ socket, reply: chunk.toString('latin1') }));
  });
}

/**
 * Holds every connection slot the server has but `leave`: opens sockets until one is turned away
 * (how many a `-c` limit leaves depends on the server's own descriptors, so it is measured).
 */
async function holdSlots(port: number, leave: number): Promise<net.Socket[]> {
  const held: Array<{ socket: net.Socket; reply: string }> = [];
  for (;;) {
    const slot = await holdSlot(port);
    if (!slot.reply.startsWith('VERSION')) {
      slot.socket.destroy();
      break;
    }
    held.push(slot);
  }
  if (leave > 0) {
    const before = await currentConnections(held[0]!.socket);
    for (const { socket } of held.splice(held.length - leave)) socket.destroy();
    // Until the server has noticed the closes, the freed slots are not free yet.
    assert.ok(
      await waitFor(async () => (await currentConnections(held[0]!.socket)) === before - leave, 2000),
      'the server freed the slots',
    );
  }
  return held.map((h) => h.socket);
}

/** `curr_connections` from `stats`, asked over a socket this test already holds. */
function currentConnections(socket: net.Socket): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      socket.off('data', onData);
      resolve(Number(/STAT curr_connections (\d+)/.exec(text)?.[1]));
    };
    socket.on('data', onData);
    socket.write('stats\r\n');
  });
}

describe("memcached's connection limit (-c)", () => {
  test('a refused extra connection is a ServerError naming the limit; the burst is served on the healthy ones', async () => {
    const server = await startMemcached({ threads: 1, args: ['-c', '15'] });
    // One slot for the client: every further connection of its pool is turned away.
    const held = await holdSlots(server.port, 1);
    after(() => {
      for (const socket of held) socket.destroy();
    });
    const client = makeClient([server], { poolSize: 5, requestTimeoutMs: 2000, retries: 0 });
    await client.set('limit:k', 'v');
    const results = await Promise.allSettled(Array.from({ length: 3000 }, () => client.get('limit:k')));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(failed.length, 0, `failed ${failed.length}: ${String(failed[0]?.reason)}`);
    for (const r of results)
      assert.equal((r as PromiseFulfilledResult<{ value: Buffer }>).value.value.toString(), 'v');
    assert.equal(client.cluster.isAlive(server.address), true);
    client.close();
  });

  test('when no slot is left, connect() fails with ServerError "Too many open connections"', async () => {
    const server = await startMemcached({ threads: 1, args: ['-c', '15'] });
    const held = await holdSlots(server.port, 0);
    try {
      const client = makeClient([server], { requestTimeoutMs: 500 });
      await assert.rejects(client.connect(), (error: unknown) => {
        assert.ok(error instanceof ServerError, `got ${String(error)}`);
        assert.match(error.message, /Too many open connections/);
        assert.equal(error.server, server.address);
        return true;
      });
      const get = await client.get('limit:x').catch((e: unknown) => e);
      assert.ok(get instanceof ServerError, `got ${String(get)}`);
      client.close();
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

describe('a value larger than this reader accepts', () => {
  test('rejects only that read, with ValueTooLargeError naming its key; the 49 reads behind it succeed on the same connection', async () => {
    const server = await startMemcached({ args: ['-I', '2m'] });
    const big = Buffer.alloc(1_500_000, 120);
    await rawCommand(
      server.target,
      Buffer.concat([Buffer.from(`set big:k 0 0 ${big.length}\r\n`), big, Buffer.from('\r\n')]),
      { until: 'STORED\r\n' },
    );
    const client = makeClient([server], { maxValueSize: 1_048_576, poolSize: 1 });
    await Promise.all(Array.from({ length: 49 }, (_, i) => client.set(`big:small${i}`, `s${i}`)));
    const connectionsBefore = (await client.stats()).get(server.address)!.get('total_connections');
    const reads = [client.get('big:k'), ...Array.from({ length: 49 }, (_, i) => client.get(`big:small${i}`))];
    const results = await Promise.allSettled(reads);
    const first = results[0]!;
    assert.equal(first.status, 'rejected');
    const error = (first as PromiseRejectedResult).reason;
    assert.ok(error instanceof ValueTooLargeError, `got ${String(error)}`);
    assert.equal(error.key, 'big:k');
    assert.match(error.message, /1500000 bytes/);
    for (let i = 1; i < 50; i++) {
      const r = results[i]!;
      assert.equal(r.status, 'fulfilled', `read ${i}: ${String((r as PromiseRejectedResult).reason)}`);
      assert.equal((r as PromiseFulfilledResult<{ value: Buffer }>).value.value.toString(), `s${i - 1}`);
    }
    // getMany: the call names the key; the connection stays.
    const many = await client.getMany(['big:small0', 'big:k', 'big:small1']).catch((e: unknown) => e);
    assert.ok(many instanceof ValueTooLargeError, `got ${String(many)}`);
    assert.equal(many.key, 'big:k');
    assert.equal((await client.get('big:small3'))?.value.toString(), 's3');
    assert.equal(client.connectionCounts().get(server.address), 1);
    const connectionsAfter = (await client.stats()).get(server.address)!.get('total_connections');
    assert.equal(connectionsAfter, connectionsBefore, 'no reconnect: the connection stayed in step');
    client.close();
  });
});

describe('timeout messages', () => {
  test('a retried call that times out names the configured request_timeout, not what was left of it', async () => {
    const server = await startMemcached();
    const client = makeClient([server], { requestTimeoutMs: 300, retries: 3, failures: 100 });
    await client.connect();
    await pauseAndWait(server);
    try {
      const error = await client.get('msg:k').catch((e: unknown) => e);
      assert.ok(error instanceof TimeoutError, `got ${String(error)}`);
      assert.match(error.message, /within 300 ms/);
    } finally {
      server.resume();
    }
    client.close();
  });
});
