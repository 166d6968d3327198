import { type Command, Exit } from './command.js';
import { openClient, UsageError } from './common.js';
import { jsonValue, reportMiss, writeJson } from './json.js';

export const get: Command = {
  name: 'get',
  summary: 'print the value stored under a key',
  usage: 'get <key> [-v]',
  help: `Prints the value (its raw bytes) followed by a newline.
A missing key prints nothing on stdout, "not found" on stderr and exits 1.
With -v the item's metadata goes to stderr, one line each, so stdout stays exactly the value:
  flags: <client flags>
  ttl: <seconds left> | never
  cas: <CAS unique>
With --json: {"key","found":true,"value"[,"encoding":"base64"]} (and "flags","ttl","cas" with
-v; ttl null = never), or {"key","found":false}.`,
  options: { verbose: { type: 'boolean', short: 'v' } },
  optionsHelp: '  -v, --verbose                 also show the client flags, TTL left and CAS',
  async run({ positionals, values, io }) {
    if (positionals.length !== 1) throw new UsageError('get takes exactly one key', 'get');
    const key = positionals[0]!;
    const verbose = values.verbose === true;
    const client = await openClient(values);
    try {
      // -v reads the TTL too (the meta protocol's `t` flag; refused with --protocol text, which
      // cannot return it); a plain get works on either protocol.
      const item = verbose ? await client.getWithTtl(key) : await client.get(key);
      if (item === null) return reportMiss(io, key, values.json);
      if (values.json) {
        const meta = 'ttl' in item ? { flags: item.flags, ttl: item.ttl, cas: item.cas } : {};
        writeJson(io, { key, found: true, ...jsonValue(item.value), ...meta });
        return Exit.Ok;
      }
      io.stdout.write(Buffer.concat([item.value, Buffer.from('\n')]));
      if ('ttl' in item) {
        io.stderr.write(
          `flags: ${item.flags}\nttl: ${item.ttl === null ? 'never' : item.ttl}\ncas: ${item.cas}\n`,
        );
      }
      return Exit.Ok;
    } finally {
      client.close();
    }
  },
};
