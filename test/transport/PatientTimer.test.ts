import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/transport/Clock.js';
import { PatientTimer, STALL_GRACE_MS } from '../../src/transport/PatientTimer.js';
import { ScriptedClock } from './scripted.js';

describe('PatientTimer', () => {
  it('on time: fires after the poll that follows its due time', () => {
    const clock = new ScriptedClock();
    const log: string[] = [];
    const timer = new PatientTimer(clock, () => log.push('fired'));
    timer.start(100);
    clock.advance(99);
    assert.equal(log.length, 0);
    clock.advance(1, () => log.push('poll'));
    assert.deepEqual(log, ['poll', 'fired'], 'what arrived is handled before the deadline is judged');
  });

  it('late because our loop stalled: waits one grace so the stall is not blamed on anyone', () => {
    const clock = new ScriptedClock();
    let fired = 0;
    const timer = new PatientTimer(clock, () => fired++);
    timer.start(100);
    clock.stall(1500);
    assert.equal(fired, 0);
    assert.equal(timer.armed, true);
    clock.advance(STALL_GRACE_MS);
    assert.equal(fired, 1);
  });

  it('cancelled during the grace: never fires', () => {
    const clock = new ScriptedClock();
    let fired = 0;
    const timer = new PatientTimer(clock, () => fired++);
    timer.start(100);
    clock.stall(1500, () => timer.cancel());
    clock.advance(1000);
    assert.equal(fired, 0);
  });
});

describe('systemClock', () => {
  // Leaves the clock offset for the rest of this file's process (each test file runs in its own).
  it('never goes backwards when the wall clock is set back, and advances again from there', () => {
    const realNow = Date.now;
    let wall = 1_000_000;
    Date.now = () => wall;
    try {
      const a = systemClock.now();
      wall -= 60_000; // an NTP step back
      const b = systemClock.now();
      assert.equal(b, a, 'held still instead of running backwards');
      wall += 10;
      assert.equal(systemClock.now(), a + 10, 'and moves on at wall speed');
    } finally {
      Date.now = realNow;
    }
  });
});
