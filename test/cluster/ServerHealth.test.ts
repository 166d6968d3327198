import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerHealth } from '../../src/cluster/ServerHealth.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('ServerHealth', () => {
  it('ejects after `failures` consecutive failures, exactly once', () => {
    const c = clock();
    const h = new ServerHealth({ failures: 3, retryMs: 1000, now: c.now });
    assert.equal(h.recordFailure('a'), false);
    assert.equal(h.recordFailure('a'), false);
    assert.equal(h.isAlive('a'), true);
    assert.equal(h.recordFailure('a'), true);
    assert.equal(h.isAlive('a'), false);
    assert.equal(h.recordFailure('a'), false, 'already dead: not ejected again');
    assert.deepEqual(h.nextRetryAt() !== undefined, true, 'a dead server is waiting for its probe');
    assert.equal(h.isAlive('b'), true);
  });

  it('a success resets the consecutive count', () => {
    const h = new ServerHealth({ failures: 2, retryMs: 1000, now: clock().now });
    h.recordFailure('a');
    assert.equal(h.recordSuccess('a'), false);
    assert.equal(h.recordFailure('a'), false);
    assert.equal(h.isAlive('a'), true);
    assert.equal(h.recordFailure('a'), true);
  });

  it('failures = 1 ejects on the first failure', () => {
    const h = new ServerHealth({ failures: 1, retryMs: 0, now: clock().now });
    assert.equal(h.recordFailure('a'), true);
  });

  it('offers a probe once retryMs has passed since ejection', () => {
    const c = clock();
    const h = new ServerHealth({ failures: 1, retryMs: 30_000, now: c.now });
    h.recordFailure('a');
    assert.equal(h.nextRetryAt(), c.t + 30_000);
    c.t += 29_999;
    assert.deepEqual(h.dueForProbe(), []);
    c.t += 1;
    assert.deepEqual(h.dueForProbe(), ['a']);
    assert.equal(h.claimProbe('b'), false, 'alive servers are never probed');
  });

  it('claimProbe hands the probe to one caller per retry window', () => {
    const c = clock();
    const h = new ServerHealth({ failures: 1, retryMs: 100, now: c.now });
    h.recordFailure('a');
    assert.equal(h.claimProbe('a'), false);
    c.t += 100;
    assert.equal(h.claimProbe('a'), true);
    assert.equal(h.claimProbe('a'), false);
    assert.deepEqual(h.dueForProbe(), [], 'a claimed probe is not due again until retryMs later');
    c.t += 100;
    assert.equal(h.claimProbe('a'), true);
  });

  it('a failed probe restarts the retry window; a success rejoins', () => {
    const c = clock();
    const h = new ServerHealth({ failures: 2, retryMs: 100, now: c.now });
    h.recordFailure('a');
    h.recordFailure('a');
    c.t += 150;
    assert.deepEqual(h.dueForProbe(), ['a']);
    assert.equal(h.recordFailure('a'), false);
    assert.deepEqual(h.dueForProbe(), []);
    assert.equal(h.nextRetryAt(), c.t + 100);
    c.t += 100;
    assert.equal(h.recordSuccess('a'), true, 'rejoined');
    assert.equal(h.isAlive('a'), true);
    assert.equal(h.nextRetryAt(), undefined);
    // after rejoin it takes `failures` failures again to eject
    assert.equal(h.recordFailure('a'), false);
    assert.equal(h.recordFailure('a'), true);
  });

  it('validates its options', () => {
    assert.throws(() => new ServerHealth({ failures: 0, retryMs: 1 }), RangeError);
    assert.throws(() => new ServerHealth({ failures: 1.5, retryMs: 1 }), RangeError);
    assert.throws(() => new ServerHealth({ failures: 1, retryMs: -1 }), RangeError);
    assert.throws(() => new ServerHealth({ failures: 1, retryMs: Number.NaN }), RangeError);
  });

  it('uses Date.now by default', () => {
    const h = new ServerHealth({ failures: 1, retryMs: 60_000 });
    const before = Date.now();
    h.recordFailure('a');
    const retryAt = h.nextRetryAt()!;
    assert.ok(retryAt >= before + 60_000 && retryAt <= Date.now() + 60_000);
  });
});
