import type { Command } from './command.js';
import { dataServers, formatTable, perServer, reportRowErrors, UsageError, wholeNumber } from './common.js';
import { jsonError, writeJson } from './json.js';

export const flush: Command = {
  name: 'flush',
  summary: 'invalidate every item on every server (needs --yes)',
  usage: 'flush --yes [--delay seconds]',
  help: `Sends flush_all to every server: every item on every server is invalidated. Because it
wipes the whole cache, it refuses to run (exit 2) without --yes. With --delay the items are
invalidated after that many seconds instead of at once. Prints one row per server: "flushed" or
"unreachable" (then exit 3; the other servers are still flushed).
With --json: [{"server","flushed":true}, …] (unreachable: {"server","error":{"code","message"}}).`,
  options: { yes: { type: 'boolean', short: 'y' }, delay: { type: 'string' } },
  optionsHelp: `  -y, --yes                     confirm: flush every server
      --delay <seconds>         invalidate after this delay (default 0: now)`,
  async run({ positionals, values, io }) {
    if (positionals.length !== 0) throw new UsageError('flush takes no arguments', 'flush');
    const delay = wholeNumber(values.delay as string | undefined, 'delay', 0);
    if (values.yes !== true) {
      throw new UsageError(
        'flush invalidates every item on every server; add --yes if that is what you want',
        'flush',
      );
    }
    // One client per server (perServer): a server that is down fails its own row only.
    const results = await perServer(values, await dataServers(values), (client) => client.flush(delay));
    if (values.json) {
      writeJson(
        io,
        results.map((r) =>
          r.error === null
            ? { server: r.id, flushed: true, delay }
            : { server: r.id, error: jsonError(r.error) },
        ),
      );
      return reportRowErrors(io, 'flush', results, true);
    }
    const when = delay > 0 ? `flushed in ${delay} s` : 'flushed';
    const rows = [
      ['server', 'result'],
      ...results.map((r) => [r.id, r.error === null ? when : 'unreachable']),
    ];
    io.stdout.write(`${formatTable(rows)}\n`);
    return reportRowErrors(io, 'flush', results);
  },
};
