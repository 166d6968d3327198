// "requestSent: false" is a promise: a call told it was never sent is never applied, so a caller
// who trusts the flag and retries applies it once. On c3f6886 a request held during a slow
// connection handshake was written once the handshake completed, after its caller had been told
// it was not sent (issue 21, item 3).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import type { Item } from '../../src/client/Item.js';
import { AbortError, type MemcachedCacheError, TimeoutError } from '../../src/component/errors.js';
import { closeAll, makeClient } from '../client/helpers.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

after(async () => {
  closeAll();
  await stopAllMemcached();
});

/**
 * Fills the accept queue of a stopped memcached started with `-b 1` (the kernel completes
 * backlog + 1 connections for it): a further connect's SYN is dropped and retried by the kernel
 * about 1 s later, so the client's connection is made only then — a slow handshake, on a real server.
 */
async function fillAcceptQueue(server: MemcachedProcess): Promise<net.Socket[]> {
  const sockets = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ host: server.host, port: server.port }, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  for (const socket of sockets) socket.on('error', () => {});
  return sockets;
}

async function counter(server: MemcachedProcess, key: string): Promise<string | undefined> {
  // A fresh client: its own connection, nothing of the test's client in it.
  const reader = makeClient([server]);
  try {
    return (await reader.get(key))?.value.toString();
  } finally {
    reader.close();
  }
}

describe('a call reported never sent is never applied', () => {
  test('an incr held while its connection is made (slower than request_timeout) times out "never written" and is never applied', async () => {
    const server = await startMemcached({ args: ['-b', '1'] });
    const setup = makeClient([server]);
    await setup.set('never:n', '0');
    setup.close();
    await server.pauseAndWait();
    const fillers = await fillAcceptQueue(server);
    const client = makeClient([server], { requestTimeoutMs: 500, connectTimeoutMs: 10_000 });
    try {
      const error = (await client.incr('never:n', 1).then(
        () => null,
        (e: unknown) => e,
      )) as MemcachedCacheError;
      assert.ok(error instanceof TimeoutError, `got ${error}`);
      assert.equal(error.details?.requestSent, false);
      assert.equal(error.details?.cause, 'local-queue');
      assert.match(error.message, /waited in this process for a connection to .* and was never written/);
      server.resume();
      // The same connection, once made: a get is queued behind where the incr was, so by its
      // reply an incr that had been written would have been applied. A get made before the
      // kernel retries the connect (~1 s) times out the same way, or is written only as its
      // deadline comes (the connection made just then: seen once in a full local run); the next
      // one is answered.
      let seen: Item | null | undefined;
      for (let attempt = 0; attempt < 10 && seen === undefined; attempt++) {
        seen = await client.get('never:n').catch((e: unknown) => {
          if (e instanceof TimeoutError && e.details?.cause === 'local-queue') return undefined;
          throw e;
        });
      }
      assert.equal(seen?.value.toString(), '0', 'the incr told "never sent" was applied');
      assert.equal(await counter(server, 'never:n'), '0');
    } finally {
      server.resume();
      for (const socket of fillers) socket.destroy();
    }
  });

  test('an incr aborted before its connection was ready is never applied, and says so', async () => {
    const server = await startMemcached();
    const setup = makeClient([server]);
    await setup.set('never:a', '0');
    setup.close();
    const client = makeClient([server]);
    const controller = new AbortController();
    const call = client.incr('never:a', 1, { signal: controller.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    // The call went to a connection still being made (its socket connects in a later tick).
    assert.equal(client.connectionCounts().get(server.address), 1);
    controller.abort();
    const error = (await call) as MemcachedCacheError;
    assert.ok(error instanceof AbortError);
    assert.equal(error.details?.requestSent, false);
    const seen = await client.get('never:a');
    assert.equal(seen?.value.toString(), '0', 'the aborted incr was applied');
  });
});
