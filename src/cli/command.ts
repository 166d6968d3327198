import type { ParseArgsConfig } from 'node:util';
import type { GlobalValues, Io } from './common.js';

export { Exit } from './common.js';

export interface CommandContext {
  positionals: string[];
  values: GlobalValues & Record<string, string | boolean | undefined>;
  io: Io;
}

/** One CLI command: its help text, its own options, and what it does. Resolves the exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Lines describing `options` for help. */
  optionsHelp?: string;
  run(context: CommandContext): Promise<number>;
}
