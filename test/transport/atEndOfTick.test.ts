import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atEndOfTick, type Clock, systemClock, TickClock } from '../../src/transport/Clock.js';

describe('atEndOfTick', () => {
  it('runs everything due in this tick, in order, after the synchronous work and its microtasks', async () => {
    const seen: string[] = [];
    atEndOfTick(() => seen.push('a'));
    queueMicrotask(() => seen.push('microtask'));
    atEndOfTick(() => seen.push('b'));
    seen.push('sync');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ['sync', 'microtask', 'a', 'b']);
  });

  it('a callback (a socket read) and the promise reactions it queued (the callers it resumes) share one clock read', async () => {
    let reads = 0;
    let readsWhenResumed = 0;
    const counting: Clock = {
      ...systemClock,
      now: () => {
        reads++;
        return systemClock.now();
      },
    };
    const clock = new TickClock(counting);
    await new Promise<void>((done) => {
      setImmediate(() => {
        clock.now(); // the reply's receive stamp
        let reply!: () => void;
        void new Promise<void>((resolve) => {
          reply = resolve;
        }).then(() => {
          clock.now(); // the resumed caller's next call
          readsWhenResumed = reads;
          done();
        });
        reply();
      });
    });
    assert.equal(readsWhenResumed, 1);
  });

  it('TickClocks of one clock share a stamp per tick', async () => {
    const a = new TickClock(systemClock);
    const b = new TickClock(systemClock, 64, false);
    await new Promise((resolve) => setImmediate(resolve));
    const stamp = a.now();
    const until = Date.now() + 5;
    while (Date.now() < until) {
      // spin: the real clock moves on within this tick
    }
    assert.equal(b.now(), stamp);
  });
});
