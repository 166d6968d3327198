import { type Command, Exit } from './command.js';
import { openClient, UsageError } from './common.js';

export const get: Command = {
  name: 'get',
  summary: 'print the value stored under a key',
  usage: 'get <key>',
  help: `Prints the value (its raw bytes) followed by a newline.
A missing key prints nothing on stdout, "not found" on stderr and exits 1.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 1) throw new UsageError('get takes exactly one key', 'get');
    const key = positionals[0]!;
    const client = await openClient(values);
    try {
      const item = await client.get(key);
      if (item === null) {
        io.stderr.write(`memcached-cache: key not found: ${key}\n`);
        return Exit.Miss;
      }
      io.stdout.write(Buffer.concat([item.value, Buffer.from('\n')]));
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
