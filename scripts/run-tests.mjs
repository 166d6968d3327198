#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node's built-in runner through tsx.
// Node 20's `--test` does not expand globs, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = findTests('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// `*.solo.test.ts` files measure how fast a burst settles; on a 2-core machine a neighbour file
// running in parallel would measure the neighbour, so they run after the others, one at a time.
const solo = files.filter((f) => f.endsWith('.solo.test.ts'));
const shared = files.filter((f) => !f.endsWith('.solo.test.ts'));
let status = 0;
for (const [batch, concurrency] of [
  [shared, 2],
  [solo, 1],
]) {
  if (batch.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...batch],
    { stdio: 'inherit' },
  );
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
