import { type Command, Exit } from './command.js';
import { createClient, describeError, endpointsFrom, formatTable, UsageError } from './common.js';

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
A server that cannot be reached shows "unreachable"; the command then exits 3.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('stats takes no arguments', 'stats');
    const endpoints = endpointsFrom(values);
    const results = await Promise.all(
      endpoints.map(async (endpoint) => {
        const client = createClient(values, [endpoint]);
        try {
          const all = await client.stats();
          return { id: endpoint.id, stats: [...all.values()][0]!, error: null };
        } catch (error) {
          return { id: endpoint.id, stats: null, error };
        } finally {
          client.close();
        }
      }),
    );
    const rows: string[][] = [['server', ...COLUMNS]];
    for (const r of results)
      rows.push([
        r.id,
        ...COLUMNS.map((c, i) => (r.stats ? (r.stats.get(c) ?? '-') : i === 0 ? 'unreachable' : '')),
      ]);
    io.stdout.write(`${formatTable(rows, [false, false, true, true, true, true, true, true])}\n`);
    let code: number = Exit.Ok;
    for (const r of results) {
      if (r.error !== null) {
        io.stderr.write(`memcached-cache: stats: ${describeError(r.error)}\n`);
        code = Exit.Server;
      }
    }
    return code;
  },
};
