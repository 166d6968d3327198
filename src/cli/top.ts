import { setTimeout as sleep } from 'node:timers/promises';
import type { MemcachedClient } from '../client/MemcachedClient.js';
import { type Command, Exit } from './command.js';
import {
  dataServers,
  describeError,
  formatTable,
  type Io,
  openClient,
  UsageError,
  wholeNumber,
} from './common.js';
import { jsonError, writeJson } from './json.js';
import { type StatsSample, type TopRow, topRow } from './topRates.js';

/** ANSI: cursor home + clear screen; hide and show the cursor. */
const REDRAW = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

const HEADER = ['server', 'ops/s', 'hit%', 'latency_ms', 'connections', 'evicted', 'evictions'];

/** One server watched by `top`: its own client (so one down server fails only its row) and last sample. */
interface Watched {
  id: string;
  client: MemcachedClient;
  last: StatsSample | null;
}

type Outcome = { id: string; row: TopRow; error: null } | { id: string; row: null; error: unknown };

async function sample(server: Watched): Promise<Outcome> {
  const started = performance.now();
  try {
    const stats = [...(await server.client.stats()).values()][0]!;
    const now = performance.now();
    const current: StatsSample = { at: now, latencyMs: now - started, stats };
    const row = topRow(server.last, current);
    server.last = current;
    return { id: server.id, row, error: null };
  } catch (error) {
    // No baseline across an outage: the first sample after it shows no rates rather than a wrong one.
    server.last = null;
    return { id: server.id, row: null, error };
  }
}

const fixed = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));
const whole = (x: number | null): string => (x === null ? '-' : String(x));

function table(outcomes: readonly Outcome[]): string {
  const rows = [HEADER];
  const notes: string[] = [];
  for (const o of outcomes) {
    if (o.row === null) {
      rows.push([o.id, 'unreachable']);
      notes.push(`${o.id}: ${describeError(o.error)}`);
      continue;
    }
    const r = o.row;
    rows.push([
      o.id,
      fixed(r.opsPerSecond, 0),
      r.hitRatio === null ? '-' : (r.hitRatio * 100).toFixed(1),
      fixed(r.latencyMs, 2),
      whole(r.connections),
      whole(r.evicted),
      whole(r.evictions),
    ]);
  }
  const text = formatTable(rows, [false, true, true, true, true, true, true]);
  return notes.length === 0 ? `${text}\n` : `${text}\n${notes.join('\n')}\n`;
}

/** Digits that mean something: a rate to 0.1/s, a ratio to 0.01 %, a latency to the microsecond. */
function rounded(row: TopRow): TopRow {
  const round = (x: number | null, digits: number): number | null =>
    x === null ? null : Number(x.toFixed(digits));
  return {
    ...row,
    opsPerSecond: round(row.opsPerSecond, 1),
    hitRatio: round(row.hitRatio, 4),
    latencyMs: Number(row.latencyMs.toFixed(3)),
  };
}

function jsonLine(outcomes: readonly Outcome[]): unknown {
  return {
    time: new Date().toISOString(),
    servers: outcomes.map((o) =>
      o.row === null ? { server: o.id, error: jsonError(o.error) } : { server: o.id, ...rounded(o.row) },
    ),
  };
}

/** Resolves when `signal` aborts; never rejects. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export const top: Command = {
  name: 'top',
  summary: 'live per-server view: ops/s, hit ratio, latency, connections, evictions',
  usage: 'top [--interval ms] [--count n]',
  help: `Samples "stats" of every server every --interval and shows one row per server:
  ops/s        (cmd_get + cmd_set) over the time between two samples
  hit%         get_hits / (get_hits + get_misses) in that time ("-" when no gets)
  latency_ms   round trip of the stats request
  connections  curr_connections (this command's own connection included)
  evicted      evictions in that time; evictions: since the server started
The first view comes after one interval (rates need two samples). On a terminal the view is
redrawn in place; otherwise (a pipe, a file) each refresh prints a table and a blank line, and
with --json one JSON line (NDJSON): {"time","servers":[{"server","opsPerSecond","hitRatio",
"latencyMs","connections","evicted","evictions"} | {"server","error"}]}. An unreachable server
shows as such in its row and is tried again at the next refresh. Ctrl-C stops and exits 0; with
--count, the exit code is 3 when a server was unreachable at the last refresh, else 0.`,
  options: { interval: { type: 'string', short: 'i' }, count: { type: 'string', short: 'n' } },
  optionsHelp: `  -i, --interval <ms>           time between refreshes (default 1000)
  -n, --count <n>               stop after n refreshes (default: until Ctrl-C)`,
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('top takes no arguments', 'top');
    const interval = wholeNumber(values.interval as string | undefined, 'interval', 1000, 1);
    const count = wholeNumber(values.count as string | undefined, 'count', Number.POSITIVE_INFINITY, 1);
    const endpoints = await dataServers(values);
    const single = { ...values, discovery: undefined };
    const watched: Watched[] = [];
    for (const endpoint of endpoints)
      watched.push({ id: endpoint.id, client: await openClient(single, [endpoint]), last: null });
    const stop = new AbortController();
    const onSigint = (): void => stop.abort();
    process.once('SIGINT', onSigint);
    const tty = !values.json && (io.stdout as NodeJS.WriteStream).isTTY === true;
    if (tty) io.stdout.write(HIDE_CURSOR);
    let code: number = Exit.Ok;
    try {
      const stopped = aborted(stop.signal);
      await Promise.race([Promise.all(watched.map(sample)), stopped]);
      for (let refresh = 0; refresh < count && !stop.signal.aborted; refresh++) {
        await sleep(interval, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) break;
        const outcomes = await Promise.race([Promise.all(watched.map(sample)), stopped]);
        if (outcomes === undefined) break;
        code = outcomes.some((o) => o.error !== null) ? Exit.Server : Exit.Ok;
        render(io, outcomes, { tty, json: values.json === true, interval, first: refresh === 0 });
      }
      // Ctrl-C is how a live view is meant to end: not a failure.
      return stop.signal.aborted ? Exit.Ok : code;
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (tty) io.stdout.write(SHOW_CURSOR);
      for (const server of watched) server.client.close();
    }
  },
};

function render(
  io: Io,
  outcomes: readonly Outcome[],
  view: { tty: boolean; json: boolean; interval: number; first: boolean },
): void {
  if (view.json) return writeJson(io, jsonLine(outcomes));
  if (view.tty) {
    const title = `memcached-cache top  every ${view.interval} ms  ${new Date().toLocaleTimeString()}  (Ctrl-C to quit)`;
    io.stdout.write(`${REDRAW}${title}\n\n${table(outcomes)}`);
    return;
  }
  io.stdout.write(`${view.first ? '' : '\n'}${table(outcomes)}`);
}
