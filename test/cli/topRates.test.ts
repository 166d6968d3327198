// top's arithmetic: rates over the time that really passed, none across a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type StatsSample, topRow } from '../../src/cli/topRates.js';

function sample(at: number, stats: Record<string, number>, latencyMs = 1): StatsSample {
  return { at, latencyMs, stats: new Map(Object.entries(stats).map(([k, v]) => [k, String(v)])) };
}

describe('topRow', () => {
  const base = { cmd_get: 100, cmd_set: 50, get_hits: 80, get_misses: 20, curr_connections: 3, evictions: 7 };

  it('ops/s, hit ratio and evictions over the interval; connections and total evictions as sampled', () => {
    const after = {
      cmd_get: 300,
      cmd_set: 100,
      get_hits: 230,
      get_misses: 70,
      curr_connections: 4,
      evictions: 9,
    };
    assert.deepEqual(topRow(sample(1000, base), sample(3000, after, 2.5)), {
      opsPerSecond: 125,
      hitRatio: 0.75,
      latencyMs: 2.5,
      connections: 4,
      evicted: 2,
      evictions: 9,
    });
  });

  it('no rates from a first sample, no hit ratio without gets, none across a restart (counters went back)', () => {
    const first = topRow(null, sample(0, base));
    assert.equal(first.opsPerSecond, null);
    assert.equal(first.evicted, null);
    assert.equal(first.evictions, 7);
    assert.equal(topRow(sample(0, base), sample(1000, base)).hitRatio, null);
    const restarted = topRow(sample(0, base), sample(1000, { ...base, cmd_get: 5, evictions: 0 }));
    assert.equal(restarted.opsPerSecond, null);
    assert.equal(restarted.evicted, null);
  });
});
