// Issue 22, item 4: a value flagged as compressed is inflated at most up to max_value, never
// blocks the event loop for long, and bad deflate data is a data error naming the key — on real
// memcached, with the bytes written as another (hostile or broken) client would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConfigParams, MemcachedCache, ValueFlags } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

/** 256 MiB of zeros deflate to ~255 KB: under memcached's 1 MB item limit. */
const BOMB = deflateRawSync(Buffer.alloc(256 * 1024 * 1024));
const MiB = 1024 * 1024;

/**
 * The longest the event loop went without running a timer while `work` ran: a 5 ms ticker
 * records the gaps between its ticks; after `work` settles, the next tick ends the watch.
 */
async function loopBlockDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: PromiseSettledResult<T>; blockMs: number }> {
  let last = performance.now();
  let worst = 0;
  let onTick: (() => void) | null = null;
  const ticker = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    onTick?.();
  }, 5);
  const [result] = await Promise.allSettled([work()]);
  await new Promise<void>((resolve) => {
    onTick = resolve;
  });
  clearInterval(ticker);
  return { result: result!, blockMs: worst };
}

function open(server: MemcachedProcess, ...options: unknown[]): Promise<MemcachedCache> {
  const cache = new MemcachedCache();
  cache.configure(
    ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port, ...options),
  );
  return cache.open(null).then(() => cache);
}

describe('compressed values: bounded, off the loop when large, corrupt data named', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;
  before(async () => {
    server = await startMemcached();
    cache = await open(server);
    await cache.getClient().set('bomb', BOMB, { ttl: 300, flags: ValueFlags.Compressed });
  });
  after(async () => {
    await cache.close(null);
    await stopAllMemcached();
  });

  it('a 255 KB value inflating to 256 MiB: 4 reads reject with VALUE_TOO_LARGE naming the key, < 64 MB and < 250 ms of loop', async (t) => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const { result, blockMs } = await loopBlockDuring(() =>
      Promise.allSettled([
        cache.retrieve('t-bomb', 'bomb'),
        cache.retrieve('t-bomb', 'bomb'),
        cache.retrieveMany('t-bomb', ['bomb']),
        cache.remove('t-bomb', 'bomb'),
      ]),
    );
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    assert.equal(result.status, 'fulfilled');
    const outcomes = (result as PromiseFulfilledResult<PromiseSettledResult<unknown>[]>).value;
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected', 'a bomb is not read');
      const error = (outcome as PromiseRejectedResult).reason;
      assert.equal(error.code, 'VALUE_TOO_LARGE', String(error));
      assert.equal(error.name, 'ValueTooLargeError');
      assert.equal(error.key, 'bomb');
      assert.equal(error.traceId, 't-bomb');
      assert.match(error.message, /'bomb'.*inflates to more than 1048576 bytes \(max_value\)/);
    }
    t.diagnostic(`loop blocked ${blockMs.toFixed(1)} ms, RSS +${grownMb.toFixed(1)} MB`);
    assert.ok(blockMs < 250, `the event loop was blocked for ${blockMs.toFixed(0)} ms`);
    assert.ok(grownMb < 64, `reading grew the process by ${grownMb.toFixed(0)} MB`);
    // Nothing poisoned: the connection reads the next value.
    await cache.store(null, 'after-bomb', 'fine', 5000);
    assert.equal(await cache.retrieve(null, 'after-bomb'), 'fine');
  });

  it('max_value 64 MiB: a 2 MiB value round-trips and the bomb stops at 64 MiB, inflated off the loop (blocked less than one on-loop inflate, or 100 ms)', async (t) => {
    const big = await open(server, 'options.max_value', 64 * MiB, 'options.compression_threshold', 1024);
    try {
      await big.getClient().set('bomb64', BOMB, { ttl: 300, flags: ValueFlags.Compressed });
      const value = 'abc'.repeat((2 * MiB) / 3);
      await big.store(null, 'two-mib', value, 10_000);
      assert.ok((await big.getClient().get('two-mib'))!.value.length < MiB, 'stored compressed');
      const { result, blockMs } = await loopBlockDuring(() =>
        Promise.allSettled([
          big.retrieve(null, 'bomb64'),
          big.retrieve(null, 'bomb64'),
          big.retrieve(null, 'two-mib'),
          big.getOrStore(null, 'two-mib', 10_000, () => 'not loaded: the value is there'),
        ]),
      );
      const [bomb1, bomb2, read, loaded] = (result as PromiseFulfilledResult<PromiseSettledResult<unknown>[]>)
        .value as [
        PromiseSettledResult<unknown>,
        PromiseSettledResult<unknown>,
        PromiseSettledResult<unknown>,
        PromiseSettledResult<unknown>,
      ];
      for (const bomb of [bomb1, bomb2]) {
        assert.equal(bomb.status, 'rejected');
        const error = (bomb as PromiseRejectedResult).reason;
        assert.equal(error.code, 'VALUE_TOO_LARGE', String(error));
        assert.match(error.message, /'bomb64'.*more than 67108864 bytes/);
      }
      assert.deepEqual(read, { status: 'fulfilled', value });
      assert.deepEqual(loaded, { status: 'fulfilled', value });
      t.diagnostic(`loop blocked ${blockMs.toFixed(1)} ms`);
      // What one read of the bomb costs when inflated on the loop, measured now: on a loaded
      // machine both figures grow together, so the bound follows the machine, not a constant.
      const started = performance.now();
      assert.throws(() => inflateRawSync(BOMB, { maxOutputLength: 64 * MiB }), RangeError);
      const onLoopMs = performance.now() - started;
      t.diagnostic(`one bomb inflated on the loop: ${onLoopMs.toFixed(1)} ms`);
      assert.ok(
        blockMs < Math.max(100, onLoopMs),
        `the event loop was blocked for ${blockMs.toFixed(0)} ms (inflating one bomb on it: ${onLoopMs.toFixed(0)} ms)`,
      );
    } finally {
      await big.close(null);
    }
  });

  it('bytes flagged compressed that are not deflate data: CORRUPT_VALUE naming the key, the connection kept', async () => {
    const client = cache.getClient();
    await client.set('corrupt', Buffer.from('this is not deflate data at all'), {
      ttl: 300,
      flags: ValueFlags.Compressed,
    });
    await client.set('neighbour', '"next"', { ttl: 300, flags: 0 });
    const [corrupt, neighbour] = await Promise.allSettled([
      cache.retrieve('t-corrupt', 'corrupt'),
      cache.retrieve(null, 'neighbour'),
    ]);
    assert.equal(corrupt.status, 'rejected');
    const error = (corrupt as PromiseRejectedResult).reason;
    assert.equal(error.code, 'CORRUPT_VALUE', String(error));
    assert.equal(error.name, 'CorruptValueError');
    assert.equal(error.key, 'corrupt');
    assert.equal(error.traceId, 't-corrupt');
    assert.match(error.message, /'corrupt' is flagged as compressed but is not valid deflate data/);
    assert.deepEqual(neighbour, { status: 'fulfilled', value: 'next' });
    await assert.rejects(
      cache.getOrStore(null, 'corrupt', 5000, () => 'loaded'),
      { code: 'CORRUPT_VALUE' },
    );
  });
});
