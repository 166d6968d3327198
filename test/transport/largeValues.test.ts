// Large values through the whole client against a real memcached: many in flight at once, sizes
// at the read buffer's and the in-place threshold's edges, multi-byte UTF-8 strings at the write
// coalescer's size edges, and a connection that drops in the middle of a value.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError } from '../../src/component/errors.js';
import { DIRECT_READ_BYTES, READ_BUFFER_BYTES } from '../../src/transport/SocketReader.js';
import {
  closeAll,
  type FakePeer,
  fakeEndpoint,
  makeClient,
  startFakePeer,
  waitFor,
  within,
} from '../client/helpers.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

/** Bytes with a period of 251 (a prime): values cut at different offsets differ from byte 0. */
const PATTERN = Buffer.from(Array.from({ length: 251 + 800_000 }, (_, i) => (i % 251) * 7 + 1));
const patterned = (i: number, size: number): Buffer => PATTERN.subarray(i % 251, (i % 251) + size);

const SIZES = [
  1,
  512,
  8 * 1024,
  DIRECT_READ_BYTES - 1,
  DIRECT_READ_BYTES,
  DIRECT_READ_BYTES + 1,
  100 * 1024,
  READ_BUFFER_BYTES - 20,
  READ_BUFFER_BYTES,
  READ_BUFFER_BYTES + 1,
  500 * 1024,
  700 * 1024,
];

let server: MemcachedProcess;
const peers: FakePeer[] = [];

before(async () => {
  server = await startMemcached({ memoryMb: 256 });
});

after(async () => {
  closeAll();
  await Promise.all(peers.map((p) => p.close()));
  await stopAllMemcached();
});

describe('large values, many in flight', () => {
  test('gets of every edge size, 100+ at once and mixed with misses and small gets, each return their own value', async () => {
    const client = makeClient([server], { poolSize: 1 });
    const keys = Array.from({ length: 120 }, (_, i) => `big:${i}`);
    const sizeOf = (i: number): number => SIZES[i % SIZES.length]!;
    await Promise.all(keys.map((k, i) => client.set(k, patterned(i, sizeOf(i)))));
    for (let round = 0; round < 3; round++) {
      const calls = keys.flatMap((k, i) => [client.get(k), client.get(`missing:${round}:${i}`)]);
      const items = await Promise.all(calls);
      keys.forEach((k, i) => {
        const item = items[2 * i];
        assert.ok(item, `${k} missing`);
        assert.ok(item.value.equals(patterned(i, sizeOf(i))), `${k} (${sizeOf(i)} bytes), round ${round}`);
        assert.equal(items[2 * i + 1], null);
      });
    }
    // A call made while large replies stream in is written and answered as well.
    const late: Array<Promise<unknown>> = [];
    const all = keys.map((k, i) =>
      client.get(k).then((item) => {
        if (i % 10 === 0) late.push(client.get(keys[(i + 1) % keys.length]!));
        return item;
      }),
    );
    await Promise.all(all);
    const lateItems = await within(Promise.all(late), 5000, 'calls made mid-stream');
    assert.equal(lateItems.length, 12);
    assert.ok(lateItems.every((item) => item !== null));
  });

  test('multi-byte UTF-8 strings at the coalescer and reader edges round-trip exactly', async () => {
    const client = makeClient([server], { poolSize: 1 });
    // 'é' is 2 bytes, '€' 3, '𝄞' 4: byte lengths around 512, 8 KB and the read sizes, odd ones included.
    const strings: string[] = [];
    for (const bytes of [511, 512, 513, 8191, 8192, 8193, DIRECT_READ_BYTES + 1, 300_001]) {
      let s = '𝄞€é'.repeat(Math.floor(bytes / 9));
      while (Buffer.byteLength(s) < bytes) s += 'a';
      strings.push(s);
    }
    await Promise.all(strings.map((s, i) => client.set(`utf8:${i}`, s)));
    const items = await Promise.all(strings.map((_, i) => client.get(`utf8:${i}`)));
    items.forEach((item, i) => {
      assert.equal(item?.value.length, Buffer.byteLength(strings[i]!), `utf8:${i} byte length`);
      assert.equal(item.value.toString('utf8'), strings[i], `utf8:${i} text`);
    });
  });
});

describe('a connection dropped in the middle of a value', () => {
  test('the value is not delivered, the reply before it is, and a call made meanwhile is written and fails', async () => {
    const big = 300_000;
    const peer = await startFakePeer((line, socket) => {
      if (line === 'version') return 'VERSION 1.6.21\r\n';
      if (line === 'mn') return 'MN\r\n';
      const opaque = /O(\d+)/.exec(line)?.[1] ?? '';
      if (line.startsWith('mg small ')) return `VA 5 O${opaque}\r\nsmall\r\n`;
      if (line.startsWith('mg big ')) {
        // Half the value, then nothing more until the peer hangs up.
        setTimeout(() => socket.destroy(), 300);
        return Buffer.concat([Buffer.from(`VA ${big} O${opaque}\r\n`), patterned(0, big / 2)]);
      }
      return null; // requests written after `big` stay unanswered
    });
    peers.push(peer);
    const client = makeClient([fakeEndpoint(peer)], { poolSize: 1, retries: 0 });
    await client.connect();
    const small = client.get('small');
    const bigGet = client.get('big').then(
      () => assert.fail('a value cut off must not be delivered'),
      (error: unknown) => error,
    );
    assert.equal((await small)?.value.toString(), 'small');
    // The value is arriving: a call made now is held only until the loop has read what came in.
    await waitFor(() => peer.lines.some((l) => l.startsWith('mg big ')), 2000);
    await sleep(50);
    const meanwhile = client.get('after').then(
      () => assert.fail('unanswered'),
      (error: unknown) => error,
    );
    await waitFor(() => peer.lines.some((l) => l.startsWith('mg after ')), 1000);
    assert.ok((await within(bigGet, 5000, 'cut-off get')) instanceof ConnectionError);
    assert.ok((await within(meanwhile, 5000, 'call made mid-value')) instanceof ConnectionError);
  });
});
