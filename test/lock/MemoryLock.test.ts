import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { ConfigError, InvalidValueError, LockTimeoutError } from '../../src/component/errors.js';
import type { ContextLike } from '../../src/component/IContext.js';
import { Lock } from '../../src/lock/Lock.js';
import { MemoryLock, MemoryLockStore } from '../../src/lock/MemoryLock.js';
import { NullLock } from '../../src/lock/NullLock.js';
import { lockFixture } from '../fixtures/LockFixture.js';

// Instances share one store so they contend as separate processes would on one memcached.
const shared = new MemoryLockStore();
lockFixture('MemoryLock (LockFixture, shared store)', async () => new MemoryLock(shared));

/** Counts attempts; free after `freeAfter` attempts. */
class CountingLock extends Lock {
  attempts = 0;
  constructor(readonly freeAfter = Number.POSITIVE_INFINITY) {
    super();
  }
  async tryAcquireLock(_context: ContextLike, _key: string, _ttl: number): Promise<boolean> {
    this.attempts++;
    return this.attempts > this.freeAfter;
  }
  async releaseLock(_context: ContextLike, _key: string): Promise<void> {}
}

describe('Lock', () => {
  it('retry_timeout defaults to 100 ms and is read from options.retry_timeout or retry_timeout', () => {
    const lock = new CountingLock();
    assert.equal(lock.getRetryTimeout(), 100);
    lock.configure(ConfigParams.fromTuples('retry_timeout', 40));
    assert.equal(lock.getRetryTimeout(), 40);
    lock.configure(ConfigParams.fromTuples('retry_timeout', 30, 'options.retry_timeout', 20));
    assert.equal(lock.getRetryTimeout(), 20);
    assert.throws(() => lock.configure(ConfigParams.fromTuples('options.retry_timeout', 'x')), ConfigError);
    assert.throws(() => lock.configure(ConfigParams.fromTuples('options.retry_timeout', 0)), ConfigError);
  });

  it('acquireLock retries every retry_timeout and makes a last attempt at the deadline', async () => {
    const lock = new CountingLock();
    lock.configure(ConfigParams.fromTuples('options.retry_timeout', 50));
    const start = Date.now();
    await assert.rejects(lock.acquireLock('t-1', 'k', 1000, 230), (err: any) => {
      assert.ok(err instanceof LockTimeoutError);
      assert.equal(err.traceId, 't-1');
      assert.equal(err.key, 'k');
      return true;
    });
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 225 && elapsed < 2000, `elapsed ${elapsed}`);
    // Attempts at 0, 50, 100, 150, 200 and the deadline (230); a busy machine stretches timers,
    // so fewer is fine — but never more, and always a first one plus one at the deadline.
    assert.ok(lock.attempts >= 2 && lock.attempts <= 6, `attempts ${lock.attempts}`);
  });

  it('acquireLock resolves as soon as an attempt succeeds; timeout 0 is one attempt', async () => {
    const lock = new CountingLock(2);
    lock.configure(ConfigParams.fromTuples('options.retry_timeout', 10));
    await lock.acquireLock(null, 'k', 1000, 1000);
    assert.equal(lock.attempts, 3);
    const once = new CountingLock();
    await assert.rejects(once.acquireLock(null, 'k', 1000, 0), { code: 'LOCK_TIMEOUT' });
    assert.equal(once.attempts, 1);
    await assert.rejects(once.acquireLock(null, 'k', 1000, Number.NaN), InvalidValueError);
  });
});

describe('MemoryLock', () => {
  it('without a shared store each instance has its own table (pip-services semantics)', async () => {
    const a = new MemoryLock();
    const b = new MemoryLock();
    assert.notEqual(a.ownerId, b.ownerId);
    assert.equal(await a.tryAcquireLock(null, 'k', 5000), true);
    assert.equal(await b.tryAcquireLock(null, 'k', 5000), true);
  });

  it('instances on one store are distinct owners', async () => {
    const store = new MemoryLockStore();
    const a = new MemoryLock(store);
    const b = new MemoryLock(store);
    assert.equal(a.getStore(), store);
    assert.equal(await a.tryAcquireLock(null, 'k', 5000), true);
    assert.equal(store.ownerOf('k'), a.ownerId);
    await b.releaseLock(null, 'k');
    assert.equal(store.ownerOf('k'), a.ownerId);
    await a.releaseLock(null, 'k');
    assert.equal(store.ownerOf('k'), null);
    assert.equal(store.size(), 0);
  });

  it('rejects a non-positive or non-finite ttl with InvalidValueError', async () => {
    const lock = new MemoryLock();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(lock.tryAcquireLock('t', 'k', ttl), { code: 'INVALID_VALUE', traceId: 't' });
    }
  });

  it('honours retry_timeout from configure', async () => {
    const store = new MemoryLockStore();
    const a = new MemoryLock(store);
    const b = new MemoryLock(store);
    b.configure(ConfigParams.fromTuples('options.retry_timeout', 10));
    await a.tryAcquireLock(null, 'k', 60);
    const start = Date.now();
    await b.acquireLock(null, 'k', 5000, 1000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 40 && elapsed < 1000, `elapsed ${elapsed}`);
  });
});

describe('NullLock', () => {
  it('every acquisition succeeds and release does nothing', async () => {
    const lock = new NullLock();
    assert.equal(await lock.tryAcquireLock(null, 'k', 1000), true);
    assert.equal(await lock.tryAcquireLock(null, 'k', 1000), true);
    await lock.acquireLock('123', 'k', 1000, 0);
    await lock.releaseLock('123', 'k');
  });
});
