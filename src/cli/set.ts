import { type Command, Exit } from './command.js';
import { openClient, UsageError, wholeNumber } from './common.js';
import { writeJson } from './json.js';

export const set: Command = {
  name: 'set',
  summary: 'store a value under a key',
  usage: 'set <key> <value> [--ttl seconds]',
  help: `Stores <value> as UTF-8 text with client flags 0 (MemcachedCache reads it back as that
string, or as the JSON value when it is JSON text). Use "--" before a value starting with "-".
With --json: {"key","stored":true,"ttl"}.`,
  options: { ttl: { type: 'string', short: 't' } },
  optionsHelp: '  -t, --ttl <seconds>           time to live; 0 (default) never expires',
  async run({ positionals, values, io }) {
    if (positionals.length !== 2) throw new UsageError('set takes a key and a value', 'set');
    const ttl = wholeNumber(values.ttl as string | undefined, 'ttl', 0);
    const [key, value] = positionals as [string, string];
    const client = await openClient(values);
    try {
      await client.set(key, value, { ttl });
      if (values.json) writeJson(io, { key, stored: true, ttl });
      else io.stderr.write(`stored ${key}\n`);
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
