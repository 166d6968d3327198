// Defect 3 of "Engine 2": overload degrades, it does not collapse. Pending calls are bounded
// (`maxPending`); past the bound calls reject at once with OVERLOADED; time spent queued in our
// own process never counts against a server; every call settles within its deadline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MemcachedCacheError } from '../../src/component/errors.js';
import { closeAll, makeClient, pauseAndWait } from '../client/helpers.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

interface BurstResult {
  ok: number;
  wrong: number;
  overloaded: number;
  other: number;
  otherSamples: string[];
  slowestOverloaded: number;
  timedOut: number;
  loopMs: number;
  slowestSettle: number;
  /** How late a plain timer due at the first deadlines fired: our own loop's lateness. */
  timerLateness: number;
  totalMs: number;
  nextMs: number;
  ejections: string[];
  /** Timeouts by `details.cause`, with the first message of each. */
  timeoutCauses: Record<string, number>;
  timeoutSamples: Record<string, string>;
  /** Timeouts whose message says the server did not answer. */
  blamedServer: number;
}

/** Runs the burst in a plain process (see fixtures/burst.ts for why not in the runner). */
async function runBurst(
  server: MemcachedProcess,
  mode: 'healthy' | 'stopped',
  calls: number,
  requestTimeoutMs = 1000,
  valueBytes = 1,
): Promise<BurstResult> {
  const fixture = fileURLToPath(new URL('./fixtures/burst.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fixture,
      String(server.port),
      mode,
      String(calls),
      'default',
      String(requestTimeoutMs),
      String(valueBytes),
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    if (mode === 'stopped' && output.startsWith('ready\n') && !paused) {
      paused = true;
      void pauseAndWait(server).then(() => child.stdin.write('go\n'));
    }
  });
  let paused = false;
  try {
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, `the burst process failed: ${output}`);
  } finally {
    if (paused) server.resume();
  }
  return JSON.parse(output.trim().split('\n').pop()!) as BurstResult;
}

describe('a burst far past the pending bound', () => {
  let server: MemcachedProcess;

  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    closeAll();
    await stopAllMemcached();
  });

  test('150,000 calls in one tick on one healthy server: ≥ 10,000 succeed, the rest OVERLOADED at once, no ejection', async () => {
    // A generous request_timeout: this checks what is shed and what is served, not how fast a
    // machine serves it (that is the benchmark's business; see the max_pending row of the README).
    const result = await runBurst(server, 'healthy', 150_000, 5000);
    assert.equal(result.other, 0, `other failures: ${result.other}, e.g. ${result.otherSamples.join(' | ')}`);
    assert.equal(result.wrong, 0);
    assert.ok(result.ok >= 10_000, `only ${result.ok} succeeded`);
    assert.equal(result.timedOut, 0);
    assert.equal(result.ok + result.overloaded, 150_000);
    assert.ok(
      result.slowestOverloaded <= result.loopMs + 500,
      `an OVERLOADED rejection came ${result.slowestOverloaded.toFixed(0)} ms after the burst (its loop took ${result.loopMs.toFixed(0)} ms)`,
    );
    assert.deepEqual(result.ejections, []);
    assert.ok(result.nextMs >= 0 && result.nextMs < 100, `the next call took ${result.nextMs} ms`);
  });

  test('a burst whose deadlines pass while our own loop works: no timeout blames the server (issue 22, item 7)', async () => {
    // 150,000 calls in one tick, 4 KB values: issuing takes about a second and the replies need
    // many socket reads after it, so callers' deadlines pass before their replies are read, while
    // memcached answers each request as soon as we let it. c3f6886 said "Server S did not answer
    // within 1000 ms" to 14,209 of 16,384 callers here. A quiet machine sometimes answers every
    // call in time (seen with 1,000 ms, then with 500 ms): the deadline is then shortened until
    // the scenario happens.
    let result = await runBurst(server, 'healthy', 150_000, 500, 4096);
    for (const deadlineMs of [250, 100]) {
      if (result.timedOut > 0) break;
      result = await runBurst(server, 'healthy', 150_000, deadlineMs, 4096);
    }
    assert.ok(result.timedOut > 0, 'the scenario: deadlines passed during our own burst');
    assert.equal(
      result.blamedServer,
      0,
      `timeouts blaming the server: ${JSON.stringify(result.timeoutSamples)}`,
    );
    for (const cause of Object.keys(result.timeoutCauses)) {
      assert.ok(
        cause === 'local-queue' || cause === 'event-loop',
        `${result.timeoutCauses[cause]} timeouts with cause ${cause}: ${result.timeoutSamples[cause]}`,
      );
    }
    assert.equal(result.wrong, 0);
    assert.deepEqual(result.ejections, []);
  });

  test('the OVERLOADED error names the bound and says nothing was sent', async () => {
    const client = makeClient([server], { maxPending: 10 });
    const calls = Array.from({ length: 11 }, (_, i) => client.set(`burst:b${i}`, 'x'));
    const results = await Promise.allSettled(calls);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(rejected.length, 1);
    const error = rejected[0]!.reason as MemcachedCacheError;
    assert.equal(error.code, 'OVERLOADED');
    assert.equal(error.name, 'OverloadedError');
    assert.equal(error.key, 'burst:b10');
    assert.equal(error.details?.requestSent, false);
    assert.match(error.message, /10 calls are pending.*maxPending/);
    assert.equal(await client.get('burst:b10'), null, 'the rejected set was not sent');
    client.close();
  });

  test('200,000 calls against a stopped server: every call settles within request_timeout + timer lateness + 250 ms', async () => {
    const result = await runBurst(server, 'stopped', 200_000);
    assert.equal(result.ok, 0, 'a stopped server answered');
    assert.ok(result.timerLateness >= 0, 'the lateness probe fired before the burst settled');
    assert.ok(
      // 250 ms: failing the 16,384 admitted calls at their deadline is work of its own.
      result.slowestSettle <= 1250 + result.timerLateness,
      `a call settled ${result.slowestSettle.toFixed(0)} ms after it was made (timers ran ${result.timerLateness.toFixed(0)} ms late)`,
    );
    assert.ok(result.totalMs < 2500, `the burst took ${result.totalMs.toFixed(0)} ms to settle`);
  });
});
