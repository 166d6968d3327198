import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatientTimer, STALL_GRACE_MS } from '../../src/transport/Clock.js';
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
