// Issue 23 §2: CommonJS users load all three entry points with require() (Node ≥ 20.19 requires
// ESM; "engines" says so). The package is built with `npm run build` into a temporary package
// root, and node runs CommonJS consumers there that reach the package by its name, through
// "exports" — as they would from node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const fixture = (name: string) => new URL(`./fixtures/commonjs/${name}`, import.meta.url).pathname;

let server: MemcachedProcess;
let pkg: string;

before(async () => {
  pkg = mkdtempSync(join(tmpdir(), 'memcached-cache-cjs-'));
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir'); // @opentelemetry/api, @types/node
  // ~10 s of CPU (tsc over src with declarations): the one slow step, done once for the file.
  const [started] = await Promise.all([
    startMemcached(),
    run('npm', ['run', 'build', '--', '--outDir', join(pkg, 'dist')], { cwd: root }),
  ]);
  server = started;
});
after(async () => {
  await stopAllMemcached();
  if (pkg !== undefined) rmSync(pkg, { recursive: true, force: true });
});

describe('CommonJS', () => {
  it('engines names only Node versions that require() ESM without a flag', () => {
    const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    // 20.19 and 22.12 made require(esm) unflagged; 21.x and 22.0–22.11 need a flag.
    assert.equal(engines.node, '^20.19.0 || >=22.12.0');
  });

  it('a .cjs file requires memcached-cache, /keyv and /otel by name and uses each', async () => {
    copyFileSync(fixture('requireAll.cjs'), join(pkg, 'requireAll.cjs'));
    const { stdout } = await run(process.execPath, [join(pkg, 'requireAll.cjs'), String(server.port)], {
      cwd: pkg,
    });
    assert.deepEqual(JSON.parse(stdout), {
      value: 'from require',
      keyv: 'keyv value',
      otel: 'memcached-cache',
    });
  });

  it('a TypeScript project compiled to CommonJS type-checks against the declarations and runs', async () => {
    copyFileSync(fixture('consumer.cts'), join(pkg, 'consumer.cts'));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [
      tsc,
      ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
      ...['--strict', '--types', 'node', '--skipLibCheck', '--rootDir', pkg, '--outDir', join(pkg, 'out')],
      join(pkg, 'consumer.cts'),
    ]).catch((error: { stdout?: string }) => assert.fail(`tsc: ${error.stdout ?? String(error)}`));
    const { stdout } = await run(process.execPath, [join(pkg, 'out/consumer.cjs'), String(server.port)], {
      cwd: pkg,
    });
    assert.deepEqual(JSON.parse(stdout), {
      value: 'from TypeScript',
      otel: 'memcached-cache',
      module: 'object',
    });
  });
});
