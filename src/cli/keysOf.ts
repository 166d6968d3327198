import { type Command, Exit } from './command.js';
import { formatTable, openClient, UsageError } from './common.js';
import { writeJson } from './json.js';

export const keysOf: Command = {
  name: 'keys-of',
  summary: 'show which server each key maps to',
  usage: 'keys-of <key…>',
  help: `Prints "<key>  <server>" for each key, as routed by the distribution (ketama by default,
or --distribution rendezvous) over all configured servers. Contacts no server.
With --json: [{"key","server"}, …].`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length === 0) throw new UsageError('keys-of needs at least one key', 'keys-of');
    const client = await openClient(values);
    try {
      const rows = positionals.map((key) => [key, client.serverFor(key)] as const);
      if (values.json)
        writeJson(
          io,
          rows.map(([key, server]) => ({ key, server })),
        );
      else io.stdout.write(`${formatTable(rows)}\n`);
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
