/**
 * The `memcached-cache` command line. `runCli` parses arguments with node:util parseArgs,
 * dispatches to a command and resolves the exit code; it never calls process.exit itself.
 */
import { parseArgs } from 'node:util';
import { bench } from './bench.js';
import type { Command } from './command.js';
import {
  describeError,
  Exit,
  exitCodeFor,
  GLOBAL_HELP,
  GLOBAL_OPTIONS,
  type Io,
  UsageError,
} from './common.js';
import { del } from './delete.js';
import { flush } from './flush.js';
import { get } from './get.js';
import { decr, incr } from './incr.js';
import { jsonError, writeJsonError } from './json.js';
import { keysOf } from './keysOf.js';
import { nodes } from './nodes.js';
import { set } from './set.js';
import { stats } from './stats.js';
import { top } from './top.js';
import { touch } from './touch.js';

export const COMMANDS: readonly Command[] = [
  get,
  set,
  del,
  touch,
  incr,
  decr,
  flush,
  stats,
  top,
  nodes,
  keysOf,
  bench,
];

const EXIT_HELP = `Exit codes:
  0  success
  1  get/delete/touch/incr/decr: the key was not found (nothing on stdout;
     with --json: {"key","found":false})
  2  usage error (unknown command or option, bad argument, invalid key)
  3  connection or server error (unreachable, timeout, server error)
  4  contention: other clients kept winning a race on the key while the server
     answered (CONTENTION, LOCK_TIMEOUT); retry later`;

export function overallHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return `Usage: memcached-cache <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help [command]'.padEnd(width)}  show help for a command

${GLOBAL_HELP}

${EXIT_HELP}

Run "memcached-cache help <command>" or "memcached-cache <command> --help" for details.
`;
}

export function commandHelp(command: Command): string {
  return `Usage: memcached-cache ${command.usage} [global options]

${command.help}
${command.optionsHelp ? `\nOptions:\n${command.optionsHelp}\n` : ''}
${GLOBAL_HELP}

${EXIT_HELP}
`;
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name) ?? (name === 'del' ? del : undefined);
}

function usageFailure(io: Io, message: string, command?: string, json = false): number {
  const hint = command ? `memcached-cache help ${command}` : 'memcached-cache --help';
  if (json) writeJsonError(io, { code: 'USAGE', message: `${message}; run "${hint}" for usage` });
  else io.stderr.write(`memcached-cache: ${message}\nRun "${hint}" for usage.\n`);
  return Exit.Usage;
}

export async function runCli(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // First pass, lenient: find the command (the first positional).
  const first = parseArgs({
    args: [...argv],
    options: GLOBAL_OPTIONS,
    strict: false,
    allowPositionals: true,
  });
  const name = first.positionals[0];
  // Known before the strict parse, so that even its errors come out as JSON.
  const json = first.values.json === true;
  if (name === undefined) {
    if (first.values.help === true) {
      io.stdout.write(overallHelp());
      return Exit.Ok;
    }
    return usageFailure(io, 'no command given', undefined, json);
  }
  if (name === 'help') {
    const topic = first.positionals[1];
    if (topic === undefined) {
      io.stdout.write(overallHelp());
      return Exit.Ok;
    }
    const command = findCommand(topic);
    if (command === undefined) return usageFailure(io, `unknown command '${topic}'`, undefined, json);
    io.stdout.write(commandHelp(command));
    return Exit.Ok;
  }
  const command = findCommand(name);
  if (command === undefined) return usageFailure(io, `unknown command '${name}'`, undefined, json);

  // Second pass, strict: global options plus the command's own.
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...command.options },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    return usageFailure(io, error instanceof Error ? error.message : String(error), command.name, json);
  }
  if (parsed.values.help === true) {
    io.stdout.write(commandHelp(command));
    return Exit.Ok;
  }
  const positionals = parsed.positionals.slice();
  positionals.splice(positionals.indexOf(name), 1);
  try {
    return await command.run({ positionals, values: parsed.values as never, io });
  } catch (error) {
    if (error instanceof UsageError)
      return usageFailure(io, error.message, error.command ?? command.name, json);
    const code = exitCodeFor(error);
    if (json) {
      writeJsonError(io, jsonError(error));
      return code;
    }
    if (code === Exit.Usage)
      return usageFailure(io, `${command.name}: ${describeError(error)}`, command.name);
    io.stderr.write(`memcached-cache: ${command.name} failed: ${describeError(error)}\n`);
    return code;
  }
}
