import { type Command, Exit } from './command.js';
import { openClient, UsageError } from './common.js';
import { reportMiss, writeJson } from './json.js';

export const del: Command = {
  name: 'delete',
  summary: 'delete a key',
  usage: 'delete <key>',
  help: `Deletes the key. A key that did not exist prints "not found" on stderr and exits 1.
With --json: {"key","deleted":true}, or {"key","found":false}.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 1) throw new UsageError('delete takes exactly one key', 'delete');
    const key = positionals[0]!;
    const client = await openClient(values);
    try {
      if (!(await client.delete(key))) return reportMiss(io, key, values.json);
      if (values.json) writeJson(io, { key, deleted: true });
      else io.stderr.write(`deleted ${key}\n`);
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
