// close() during 1,000 in-flight operations: every promise settles and no socket or timer is
// left. Run in a child process that must exit by itself — the proof that no handle leaked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached } from '../support/index.js';
import { pauseAndWait } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/closeInflight.ts', import.meta.url));
const EXIT_WITHIN_MS = 8000;

interface Report {
  /** Stalled mode: every server had a connected socket (its handshake written) at close(). */
  handshaking: boolean;
  mode: string;
  timedOut: boolean;
  total: number;
  settledBeforeClose: number;
  settled: number;
  fulfilled: number;
  rejected: number;
  codes: Record<string, number>;
  connections: Record<string, number>;
  resources: string[];
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  killedByUs: boolean;
  ms: number;
  stdout: string;
  stderr: string;
}

function runFixture(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    let killedByUs = false;
    const timer = setTimeout(() => {
      killedByUs = true;
      child.kill('SIGKILL');
    }, EXIT_WITHIN_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, killedByUs, ms: performance.now() - started, stdout, stderr });
    });
  });
}

function check(run: Run): Report {
  assert.equal(
    run.killedByUs,
    false,
    `the child did not exit by itself within ${EXIT_WITHIN_MS} ms: ${run.stdout}${run.stderr}`,
  );
  assert.equal(run.signal, null);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Report;
  assert.equal(report.timedOut, false, 'some operation never settled');
  assert.equal(report.settled, report.total);
  assert.equal(report.fulfilled + report.rejected, 1000);
  for (const count of Object.values(report.connections)) assert.equal(count, 0);
  const leaked = report.resources.filter(
    (r) => r === 'TCPWRAP' || r === 'TCPSocketWrap' || r === 'Timeout' || r === 'PipeConnectWrap',
  );
  assert.deepEqual(leaked, [], `active resources after close: ${report.resources.join(', ')}`);
  return report;
}

describe('close() during in-flight operations (child process)', () => {
  let servers: MemcachedProcess[];

  before(async () => {
    servers = await startMemcachedCluster(2);
  });
  after(stopAllMemcached);

  test('live servers: 1,000 ops all settle, the child exits by itself with no socket or timer left', async () => {
    const run = await runFixture([servers.map((s) => s.address).join(','), 'live']);
    const report = check(run);
    assert.ok(report.rejected > 0, `close() came too late to cut anything off: ${JSON.stringify(report)}`);
    // What was cut off by close() is a connection error or "client is closed", never a hang.
    for (const code of Object.keys(report.codes))
      assert.ok(['CONNECTION', 'INVALID_STATE'].includes(code), `code ${code}`);
  });

  test('stalled servers (SIGSTOP): close() during the handshake settles everything and the child exits', async () => {
    await Promise.all(servers.map((s) => pauseAndWait(s)));
    try {
      const run = await runFixture([servers.map((s) => s.address).join(','), 'stalled']);
      const report = check(run);
      assert.equal(report.handshaking, true, 'close() came with every server connected, in its handshake');
      assert.equal(report.fulfilled, 0, 'nothing can have been answered');
      assert.equal(report.rejected, 1000);
      for (const code of Object.keys(report.codes))
        assert.ok(['CONNECTION', 'INVALID_STATE'].includes(code), `code ${code}`);
    } finally {
      for (const s of servers) s.resume();
    }
  });
});
