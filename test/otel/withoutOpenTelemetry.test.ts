// The package root must not need OpenTelemetry: it is an optional peer dependency of
// `memcached-cache/otel` alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const run = promisify(execFile);
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

let server: MemcachedProcess;
before(async () => {
  server = await startMemcached();
});
after(stopAllMemcached);

it('the root imports and runs with no @opentelemetry package resolvable; only the otel subpath needs one', async () => {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    '--import',
    fixture('hideOpenTelemetry.mjs'),
    fixture('rootWithoutOtel.ts'),
    String(server.port),
  ]);
  assert.deepEqual(JSON.parse(stdout), { value: 'works', otel: 'ERR_MODULE_NOT_FOUND' });
});
