import { type Command, Exit } from './command.js';
import { openClient, UsageError } from './common.js';
import { reportMiss, writeJson } from './json.js';

/** A delta is an unsigned 64-bit decimal, like the counter it changes: parsed as a bigint. */
function parseDelta(text: string | undefined, command: string): bigint {
  if (text === undefined) return 1n;
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 0xffff_ffff_ffff_ffffn) {
    throw new UsageError(
      `${command}: the delta must be a whole number from 0 to 2^64-1, got '${text}'`,
      command,
    );
  }
  return BigInt(text);
}

/** incr and decr differ only by direction: one definition, two commands. */
function counter(name: 'incr' | 'decr'): Command {
  const verb = name === 'incr' ? 'add' : 'subtract';
  return {
    name,
    summary: `${verb} to a counter and print its new value`,
    usage: `${name} <key> [delta]`,
    help: `${name === 'incr' ? 'Adds' : 'Subtracts'} [delta] (default 1) ${name === 'incr' ? 'to' : 'from'} the counter under <key> and prints its new
value (an unsigned 64-bit number${name === 'decr' ? '; memcached stops at 0' : ', wrapping at 2^64'}). A missing key prints "not found"
on stderr and exits 1 (it is not created); a value that is not a number is the server's error,
exit 3. With --json: {"key","value":"<decimal>"} (a string: it may exceed 2^53), or
{"key","found":false}.`,
    options: {},
    async run({ positionals, values, io }) {
      if (positionals.length < 1 || positionals.length > 2)
        throw new UsageError(`${name} takes a key and an optional delta`, name);
      const key = positionals[0]!;
      const delta = parseDelta(positionals[1], name);
      const client = await openClient(values);
      try {
        const value = name === 'incr' ? await client.incr(key, delta) : await client.decr(key, delta);
        if (value === null) return reportMiss(io, key, values.json);
        if (values.json) writeJson(io, { key, value });
        else io.stdout.write(`${value}\n`);
        return Exit.Ok;
      } finally {
        client.close();
      }
    },
  };
}

export const incr: Command = counter('incr');
export const decr: Command = counter('decr');
