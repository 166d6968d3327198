import { type Command, Exit } from './command.js';
import { openClient, UsageError } from './common.js';

export const del: Command = {
  name: 'delete',
  summary: 'delete a key',
  usage: 'delete <key>',
  help: 'Deletes the key. A key that did not exist prints "not found" on stderr and exits 1.',
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 1) throw new UsageError('delete takes exactly one key', 'delete');
    const key = positionals[0]!;
    const client = await openClient(values);
    try {
      if (await client.delete(key)) {
        io.stderr.write(`deleted ${key}\n`);
        return Exit.Ok;
      }
      io.stderr.write(`memcached-cache: key not found: ${key}\n`);
      return Exit.Miss;
    } finally {
      client.close();
    }
  },
};
