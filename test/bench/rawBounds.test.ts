// The bench's raw bounds (bench/raw.ts). `raw-meta` claims to send what our client sends: the
// bench's own `ours` driver runs set, get and getMany through a recording proxy in front of a real
// memcached, and the bytes must equal the prebuilt batches but for the opaque numbers. Then both
// bounds' batches go to memcached through RawBound, which must count their replies (the quiet
// multi-get: hits answer, a miss does not, `MN` ends it).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDriver, type Driver } from '../../bench/drivers.js';
import {
  getBatches,
  metaGetBatches,
  metaSetBatches,
  Opaques,
  QUIET,
  quietGetBatches,
  RawBound,
  setBatches,
} from '../../bench/raw.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

/** A TCP proxy that keeps every byte the clients send. */
class RecordingProxy {
  port = 0;
  private sent: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    this.sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      this.sent.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });

  constructor(private readonly target: MemcachedProcess) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** What was sent since the last call. */
  take(): string {
    const text = Buffer.concat(this.sent).toString('latin1');
    this.sent = [];
    return text;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}

/** Opaque numbers differ between a live client and prebuilt batches; the rest must not. */
const withoutOpaques = (text: string): string => text.replace(/ O\d+\r\n/g, ' O#\r\n');

describe('bench raw bounds', () => {
  let server: MemcachedProcess;
  let proxy: RecordingProxy;
  let ours: Driver;
  before(async () => {
    server = await startMemcached();
    proxy = new RecordingProxy(server);
    await proxy.start();
    ours = await createDriver('ours', [{ host: '127.0.0.1', port: proxy.port }]);
    await ours.set('warm', Buffer.from('x'));
    proxy.take(); // the connection's handshake and the first set
  });
  after(async () => {
    await ours.close();
    proxy.close();
    await stopAllMemcached();
  });

  const keys = Array.from({ length: 5 }, (_, i) => `b:test:rawm:seq:0:${i}`);
  const value = Buffer.from('0123456789'.repeat(10));

  it('raw-meta sends the bytes our client sends for set, get and getMany', async () => {
    for (const key of keys) await ours.set(key, value);
    const sets = proxy.take();
    for (const key of keys) assert.equal(ours.length(await ours.get(key)), value.length);
    const gets = proxy.take();
    assert.equal(await ours.mget(keys), keys.length);
    const mget = proxy.take();

    const opaques = new Opaques();
    const ascii = (batches: Buffer[]): string => Buffer.concat(batches).toString('latin1');
    assert.equal(withoutOpaques(ascii(metaSetBatches(keys, 1, value, 100, opaques))), withoutOpaques(sets));
    assert.equal(withoutOpaques(ascii(metaGetBatches(keys, 1, opaques))), withoutOpaques(gets));
    assert.equal(withoutOpaques(ascii(quietGetBatches(keys, keys.length, opaques))), withoutOpaques(mget));
    // The shapes themselves, so a change on both sides does not pass unnoticed.
    assert.match(sets, /^ms b:test:rawm:seq:0:0 100 O\d+\r\n/);
    assert.match(gets, /^mg b:test:rawm:seq:0:0 v f c O\d+\r\n/);
    assert.match(mget, /^mg b:test:rawm:seq:0:0 v f c q O\d+\r\n(?:.*\r\n)*mn\r\n$/);
  });

  it('raw-meta numbers its opaques like our client: increasing from 1, consecutive in a batch', () => {
    const opaques = new Opaques();
    const sets = metaSetBatches(keys, 2, Buffer.from('v'), 100, opaques);
    const mgets = quietGetBatches(keys, 2, opaques);
    const numbers = (batches: Buffer[]): number[] =>
      [
        ...Buffer.concat(batches)
          .toString('latin1')
          .matchAll(/ O(\d+)\r\n/g),
      ].map((m) => Number(m[1]));
    assert.deepEqual(numbers(sets), [1, 2, 3, 4]);
    assert.deepEqual(numbers(mgets), [5, 6, 7, 8]);
  });

  it('RawBound counts the replies of both bounds, quiet multi-gets ended by MN', async () => {
    const raw = new RawBound();
    await raw.connect(server.host, server.port);
    try {
      const opaques = new Opaques();
      // Keys of their own: the first test wrote all of `keys`.
      const keys = Array.from({ length: 5 }, (_, i) => `b:test:rawm:count:${i}`);
      const stored = keys.slice(0, 4);
      for (const batch of metaSetBatches(stored, 2, value, 100, opaques)) await raw.send(batch, 2);
      for (const batch of setBatches(stored, 2, value, 100)) await raw.send(batch, 2);

      let hits = raw.hitCount;
      for (const batch of metaGetBatches(stored, 2, opaques)) await raw.send(batch, 2);
      for (const batch of getBatches(stored, 4)) await raw.send(batch, 4);
      assert.equal(raw.hitCount - hits, 8);

      // keys[4] was never written: a quiet miss answers nothing, the batch still ends at MN.
      hits = raw.hitCount;
      const [batch] = quietGetBatches(keys, keys.length, opaques);
      await raw.send(batch!, QUIET);
      assert.equal(raw.hitCount - hits, 4);

      // A plain get of the missing key answers EN: a reply, not a hit.
      hits = raw.hitCount;
      await raw.send(metaGetBatches([keys[4]!], 1, opaques)[0]!, 1);
      assert.equal(raw.hitCount - hits, 0);

      // Values spread over many socket reads: 200 hits of 100 KB each in one quiet batch.
      const big = Buffer.alloc(100 * 1024, 7);
      const many = Array.from({ length: 200 }, (_, i) => `b:test:rawm:big:${i}`);
      for (const b of metaSetBatches(many, 100, big, 100, opaques)) await raw.send(b, 100);
      hits = raw.hitCount;
      for (const b of quietGetBatches(many, 100, opaques)) await raw.send(b, QUIET);
      assert.equal(raw.hitCount - hits, 200);
    } finally {
      raw.close();
    }
  });

  it('RawBound fails a batch on an error line instead of counting it', async () => {
    const raw = new RawBound();
    await raw.connect(server.host, server.port);
    try {
      await assert.rejects(raw.send(Buffer.from('bogus\r\n'), 1), /unexpected reply ERROR/);
    } finally {
      raw.close();
    }
  });
});
