import type { Command } from './command.js';
import { dataServers, formatTable, perServer, reportRowErrors, UsageError } from './common.js';
import { jsonError, writeJson } from './json.js';

const COLUMNS = [
  'version',
  'uptime',
  'curr_items',
  'bytes',
  'get_hits',
  'get_misses',
  'curr_connections',
] as const;

export const stats: Command = {
  name: 'stats',
  summary: 'show the main stats of every server as a table',
  usage: 'stats',
  help: `One row per server: ${COLUMNS.join(', ')}.
A server that cannot be reached shows "unreachable"; the command then exits 3.
With --json: [{"server","stats":{<every stat>: "<value as the server sent it>"}}, …], an
unreachable server as {"server","error":{"code","message"}}.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('stats takes no arguments', 'stats');
    const results = await perServer(values, await dataServers(values), async (client) => {
      const all = await client.stats();
      return [...all.values()][0]!;
    });
    if (values.json) {
      writeJson(
        io,
        results.map((r) =>
          r.result
            ? { server: r.id, stats: Object.fromEntries(r.result) }
            : { server: r.id, error: jsonError(r.error) },
        ),
      );
      return reportRowErrors(io, 'stats', results, true);
    }
    const rows: string[][] = [['server', ...COLUMNS]];
    for (const r of results)
      rows.push([
        r.id,
        ...COLUMNS.map((c, i) => (r.result ? (r.result.get(c) ?? '-') : i === 0 ? 'unreachable' : '')),
      ]);
    io.stdout.write(`${formatTable(rows, [false, false, true, true, true, true, true, true])}\n`);
    return reportRowErrors(io, 'stats', results);
  },
};
