// Runs Python snippets for the interop suites (not a test file itself).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's interpreter: python3-pymemcache installs for it, not for a python3 earlier on PATH. */
export const PYTHON = '/usr/bin/python3';

const havePymemcache =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pymemcache'], { encoding: 'utf8' }).status === 0;

/** `skip` option for node:test: false, or why the suite cannot run here. */
export const skipWithoutPymemcache: false | string = havePymemcache
  ? false
  : `${PYTHON} with pymemcache is not installed (apt-get install python3-pymemcache)`;

/** Runs a Python snippet with `input` as JSON on stdin; returns its stdout parsed as JSON. */
export function python(script: string, input: unknown, timeoutMs = 30_000): any {
  const run = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  assert.equal(run.status, 0, `python failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
