// One call at a time against a real memcached: a request alone on its connection reaches the
// socket before the call returns (nothing to coalesce it with, so no wait for the end of the
// tick), while calls behind it in the same tick still share one write.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { closeAll, makeClient } from '../client/helpers.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

let server: MemcachedProcess;

before(async () => {
  server = await startMemcached();
});

after(async () => {
  closeAll();
  await stopAllMemcached();
});

/** Counts `net.Socket#write` calls (every socket of this process) while `body` runs. */
async function countingWrites(body: (writes: () => number) => Promise<void>): Promise<void> {
  const original = net.Socket.prototype.write;
  let count = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    count++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  try {
    await body(() => count);
  } finally {
    net.Socket.prototype.write = original;
  }
}

test('a call on an idle connection is written before it returns; the calls behind it share one write', async () => {
  const client = makeClient([server]);
  await client.connect();
  await client.set('lone', 'v');
  await countingWrites(async (writes) => {
    const first = client.get('lone');
    assert.equal(writes(), 1, 'the lone get went to the socket before get() returned');
    const behind = [client.get('lone'), client.set('lone', 'w'), client.get('lone')];
    assert.equal(writes(), 1, 'the calls behind it wait for the end of the tick');
    const [item] = await Promise.all([first, ...behind]);
    assert.equal(writes(), 2, 'the three calls behind it went in one write');
    assert.equal(item?.value.toString(), 'v');
    // Sequential: each call finds the connection idle again.
    for (let i = 0; i < 5; i++) {
      const before = writes();
      const set = client.set(`lone:${i}`, 'x');
      assert.equal(writes(), before + 1);
      await set;
    }
  });
});
