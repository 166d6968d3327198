/**
 * What `top` shows for one server, from two consecutive `stats` samples: pure arithmetic, no I/O.
 * Rates are over the time that really passed between the samples (a slow stats reply or a busy
 * event loop stretches an interval; dividing by the nominal one would overstate the rate).
 */

/** One `stats` reply of one server, with when it arrived and how long the round trip took. */
export interface StatsSample {
  /** performance.now() when the reply arrived. */
  at: number;
  /** Round trip of the stats request, in ms. */
  latencyMs: number;
  stats: ReadonlyMap<string, string>;
}

/** One server's row. Rates are null on the first sample and after a counter went backwards (restart). */
export interface TopRow {
  opsPerSecond: number | null;
  /** Hits / (hits + misses) in the interval, 0…1; null when there were no gets. */
  hitRatio: number | null;
  latencyMs: number;
  connections: number | null;
  /** Evictions during the interval. */
  evicted: number | null;
  /** Evictions since the server started. */
  evictions: number | null;
}

function counter(sample: StatsSample, name: string): number | null {
  const text = sample.stats.get(name);
  if (text === undefined || !/^\d+$/.test(text)) return null;
  return Number(text);
}

/** `after - before` of a counter; null when unknown or when it went backwards (the server restarted). */
function delta(before: StatsSample | null, after: StatsSample, name: string): number | null {
  if (before === null) return null;
  const a = counter(before, name);
  const b = counter(after, name);
  return a === null || b === null || b < a ? null : b - a;
}

export function topRow(before: StatsSample | null, after: StatsSample): TopRow {
  const seconds = before === null ? 0 : (after.at - before.at) / 1000;
  const gets = delta(before, after, 'cmd_get');
  const sets = delta(before, after, 'cmd_set');
  const hits = delta(before, after, 'get_hits');
  const misses = delta(before, after, 'get_misses');
  return {
    opsPerSecond: gets === null || sets === null || seconds <= 0 ? null : (gets + sets) / seconds,
    hitRatio: hits === null || misses === null || hits + misses === 0 ? null : hits / (hits + misses),
    latencyMs: after.latencyMs,
    connections: counter(after, 'curr_connections'),
    evicted: delta(before, after, 'evictions'),
    evictions: counter(after, 'evictions'),
  };
}
