// The bench's promise bound (bench/promiseBound.ts) is a ratio's denominator: if it resolved a
// call with another call's reply, or dropped a split reply, ours ÷ it would be a lie. Real
// memcached, directly and through a proxy that hands the replies over one byte at a time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PromiseBound } from '../../bench/promiseBound.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached, TrickleProxy } from '../support/index.js';

describe('bench promise bound', () => {
  let server: MemcachedProcess;
  before(async () => {
    server = await startMemcached();
  });
  after(() => stopAllMemcached());

  it('resolves each of 200 concurrent calls with its own reply', { timeout: 5000 }, async () => {
    const bound = new PromiseBound();
    await bound.connect(server.host, server.port);
    try {
      const keys = Array.from({ length: 200 }, (_, i) => `pb:${i}`);
      const stored = await Promise.all(keys.map((key, i) => bound.set(key, Buffer.from(`value ${i}`))));
      assert.ok(stored.every((ok) => ok === true));
      const values = await Promise.all([...keys.map((key) => bound.get(key)), bound.get('pb:missing')]);
      assert.deepEqual(
        values.map((value) => value?.toString() ?? null),
        [...keys.map((_, i) => `value ${i}`), null],
      );
    } finally {
      bound.close();
    }
  });

  it('reads replies split anywhere: header lines and values across reads', { timeout: 5000 }, async () => {
    const proxy = await TrickleProxy.start(server, { intervalMs: 1 });
    const bound = new PromiseBound();
    await bound.connect(proxy.host, proxy.port);
    try {
      assert.equal(await bound.set('pb:split', Buffer.from('0123456789')), true);
      const [value, miss] = await Promise.all([bound.get('pb:split'), bound.get('pb:split-missing')]);
      assert.equal(value?.toString(), '0123456789');
      assert.equal(miss, null);
    } finally {
      bound.close();
      await proxy.close();
    }
  });
});
