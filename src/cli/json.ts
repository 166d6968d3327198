/**
 * `--json` output: the one home of how the CLI turns results and errors into JSON. Every command
 * prints one document on stdout (`top` one per refresh: NDJSON); errors go to stderr as
 * `{"error":{"code","message"}}` with the same exit code as in text mode.
 */
import { isUtf8 } from 'node:buffer';
import { MemcachedCacheError } from '../component/errors.js';
import { describeError, Exit, type Io, UsageError } from './common.js';

/** JSON.stringify that writes a bigint as a decimal string (counters are uint64, beyond 2^53). */
export function toJson(document: unknown): string {
  return JSON.stringify(document, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/** Prints one JSON document (one line) on stdout. */
export function writeJson(io: Io, document: unknown): void {
  io.stdout.write(`${toJson(document)}\n`);
}

/** A stored value: UTF-8 text as is; other bytes as base64, said so by `encoding`. */
export function jsonValue(value: Buffer): { value: string; encoding?: 'base64' } {
  return isUtf8(value)
    ? { value: value.toString('utf8') }
    : { value: value.toString('base64'), encoding: 'base64' };
}

/** An error as `{code, message}`: the client's error code, USAGE for bad usage, else INTERNAL. */
export function jsonError(error: unknown): { code: string; message: string } {
  if (error instanceof MemcachedCacheError) return { code: error.code, message: describeError(error) };
  if (error instanceof UsageError) return { code: 'USAGE', message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** Prints `{"error":{…}}` on stderr. */
export function writeJsonError(io: Io, error: { code: string; message: string }): void {
  io.stderr.write(`${toJson({ error })}\n`);
}

/**
 * A key that is not there (get, delete, touch, incr, decr): "key not found" on stderr, or with
 * --json `{"key","found":false}` on stdout, a document a script can parse like a hit; exit 1.
 */
export function reportMiss(io: Io, key: string, json: boolean | undefined): number {
  if (json) writeJson(io, { key, found: false });
  else io.stderr.write(`memcached-cache: key not found: ${key}\n`);
  return Exit.Miss;
}
