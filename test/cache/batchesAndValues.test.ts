import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  ConfigParams,
  InvalidKeyError,
  InvalidValueError,
  MemcachedCache,
  ValueTooLargeError,
} from '../../src/index.js';
import { type MemcachedProcess, rawCommand, startMemcached, stopAllMemcached } from '../support/index.js';

// Issue 11, items 3, 4, 6 and 8 on real memcached.

describe('MemcachedCache batches, copies, empty values and error contents', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;
  let near: MemcachedCache;
  before(async () => {
    server = await startMemcached();
    const base = ['connection.host', server.host, 'connection.port', server.port, 'options.max_value', 1000];
    cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples(...base));
    await cache.open(null);
    near = new MemcachedCache();
    near.configure(ConfigParams.fromTuples(...base, 'options.near_cache_ttl', 60_000));
    await near.open(null);
  });
  after(async () => {
    await cache.close(null);
    await near.close(null);
    await stopAllMemcached();
  });

  it('storeMany with one too-long key writes nothing and names that entry', async () => {
    const entries: Array<[string, string]> = [
      ['batch:a', 'A'],
      ['x'.repeat(300), 'B'],
      ['batch:c', 'C'],
    ];
    await assert.rejects(cache.storeMany('t-9', entries, 5000), (error: unknown) => {
      assert.ok(error instanceof InvalidKeyError, String(error));
      assert.match((error as Error).message, /^batch entry 1: /);
      assert.equal((error as InvalidKeyError).details?.entry, 1);
      assert.equal((error as InvalidKeyError).traceId, 't-9');
      return true;
    });
    assert.equal(await cache.retrieve(null, 'batch:a'), null, 'the valid entry before it was not written');
    assert.equal(await cache.retrieve(null, 'batch:c'), null);
  });

  it('storeMany with one too-large value writes nothing and names that entry', async () => {
    const entries: Array<[string, unknown]> = [
      ['batch:d', 'D'],
      ['batch:e', 'E'],
      ['batch:big', 'y'.repeat(2000)],
    ];
    await assert.rejects(cache.storeMany(null, entries, 5000), (error: unknown) => {
      assert.ok(error instanceof ValueTooLargeError, String(error));
      assert.match((error as Error).message, /^batch entry 2: /);
      assert.equal((error as ValueTooLargeError).key, 'batch:big');
      return true;
    });
    assert.equal(await cache.retrieve(null, 'batch:d'), null);
    assert.equal(await cache.retrieve(null, 'batch:e'), null);
  });

  it('retrieveMany names the entry whose key is invalid', async () => {
    await assert.rejects(cache.retrieveMany(null, ['ok', 42 as unknown as string]), (error: unknown) => {
      assert.ok(error instanceof InvalidKeyError, String(error));
      assert.match((error as Error).message, /^batch entry 1: /);
      return true;
    });
  });

  it('near cache: changing a stored Buffer afterwards does not change what reads return', async () => {
    const bytes = Buffer.from('original');
    await near.store(null, 'near:stored', bytes, 5000);
    bytes.write('MUTATED!');
    assert.equal((await near.retrieve<Buffer>(null, 'near:stored'))!.toString(), 'original');
  });

  it('near cache: changing a returned Buffer does not change what the next read returns', async () => {
    await near.store(null, 'near:read', Buffer.from('original'), 5000);
    const first = (await near.retrieve<Buffer>(null, 'near:read'))!; // from memcached, now kept
    first.write('MUTATED!');
    const second = (await near.retrieve<Buffer>(null, 'near:read'))!; // from the near cache
    assert.equal(second.toString(), 'original');
    second.write('AGAIN!!!');
    assert.equal((await near.retrieve<Buffer>(null, 'near:read'))!.toString(), 'original');
  });

  it('an empty flags-0 value written by another client reads back as "", and remove() reports it', async () => {
    const reply = await rawCommand(server.target, 'ms empty:k 0 F0 T0\r\n\r\n');
    assert.equal(reply.toString(), 'HD\r\n');
    assert.equal(await cache.retrieve(null, 'empty:k'), '');
    assert.deepEqual([...(await cache.retrieveMany(null, ['empty:k']))], [['empty:k', '']]);
    assert.equal(await cache.remove(null, 'empty:k'), '');
    assert.equal(await cache.retrieve(null, 'empty:k'), null);
  });

  it('a lease placeholder is a miss for retrieve() and a pending lease for getOrLease()', async () => {
    const client = cache.getClient();
    const winner = await client.getOrLease('lease:k', 30);
    assert.equal(winner.win, true);
    assert.equal(await cache.retrieve(null, 'lease:k'), null);
    const other = await client.getOrLease('lease:k', 30);
    assert.deepEqual([other.win, other.pending, other.item], [false, true, null]);
  });

  it('a toJSON that throws: the error says so but carries none of its text', async () => {
    const value = {
      toJSON() {
        throw new Error('secret-value-123');
      },
    };
    await assert.rejects(cache.store(null, 'json:k', value, 5000), (error: unknown) => {
      assert.ok(error instanceof InvalidValueError, String(error));
      assert.match((error as Error).message, /toJSON\(\) method or getter of it threw/);
      const shown = `${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${(error as Error).stack}`;
      assert.ok(!shown.includes('secret-value-123'), shown);
      return true;
    });
  });

  it('a NaN TTL is reported as NaN', async () => {
    await assert.rejects(cache.store(null, 'ttl:k', 'v', Number.NaN), /got NaN/);
    await assert.rejects(cache.store(null, 'ttl:k', 'v', '5' as unknown as number), /got a string/);
  });
});
