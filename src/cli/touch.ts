import { type Command, Exit } from './command.js';
import { openClient, UsageError, wholeNumber } from './common.js';
import { reportMiss, writeJson } from './json.js';

export const touch: Command = {
  name: 'touch',
  summary: 'set a new TTL on a key without reading it',
  usage: 'touch <key> <ttl-seconds>',
  help: `Sets the key's time to live to <ttl-seconds> (0: never expires), leaving its value alone.
A missing key prints "not found" on stderr and exits 1.
With --json: {"key","touched":true,"ttl"}, or {"key","found":false}.`,
  options: {},
  async run({ positionals, values, io }) {
    if (positionals.length !== 2) throw new UsageError('touch takes a key and a TTL in seconds', 'touch');
    const [key, ttlText] = positionals as [string, string];
    const ttl = wholeNumber(ttlText, 'ttl', 0);
    const client = await openClient(values);
    try {
      if (!(await client.touch(key, ttl))) return reportMiss(io, key, values.json);
      if (values.json) writeJson(io, { key, touched: true, ttl });
      else io.stderr.write(`touched ${key}\n`);
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
