// The callers' deadlines, on a scripted clock: on time when the loop is responsive, never
// before arrived replies are delivered after a stall.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineQueue, type Expirable } from '../../src/client/DeadlineQueue.js';
import { ScriptedClock } from './scripted.js';

function item(dueAt: number, log: string[], name: string): Expirable {
  return { dueAt, prevDue: null, nextDue: null, expire: () => log.push(`${name}@`) };
}

describe('DeadlineQueue', () => {
  it('expires in deadline order, on time; a removed item never expires', () => {
    const clock = new ScriptedClock();
    const queue = new DeadlineQueue(clock);
    const log: string[] = [];
    const a = item(clock.time + 100, log, 'a');
    const b = item(clock.time + 100, log, 'b');
    const c = item(clock.time + 200, log, 'c');
    queue.add(a);
    queue.add(b);
    queue.add(c);
    queue.remove(b);
    clock.advance(99);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ['a@']);
    clock.advance(100);
    assert.deepEqual(log, ['a@', 'c@']);
    assert.equal(queue.isEmpty, true);
  });

  it('after a stall, what was answered meanwhile is removed before anything expires', () => {
    const clock = new ScriptedClock();
    const queue = new DeadlineQueue(clock);
    const log: string[] = [];
    const answered = item(clock.time + 1000, log, 'answered');
    const silent = item(clock.time + 1000, log, 'silent');
    queue.add(answered);
    queue.add(silent);
    // The loop is blocked 1.5 s; the poll after it delivers one reply.
    clock.stall(1500, () => queue.remove(answered));
    assert.deepEqual(log, [], 'a late timer gives the loop a short grace to read what arrived');
    clock.advance(30);
    assert.deepEqual(log, ['silent@'], 'and then expires what is still unanswered');
  });

  it('removing an item twice, or one never added, is harmless', () => {
    const clock = new ScriptedClock();
    const queue = new DeadlineQueue(clock);
    const log: string[] = [];
    const a = item(clock.time + 10, log, 'a');
    queue.remove(a);
    queue.add(a);
    queue.remove(a);
    queue.remove(a);
    clock.advance(20);
    assert.deepEqual(log, []);
  });
});
