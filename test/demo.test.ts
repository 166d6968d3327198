// `npm start` end to end: the demo must show the seed example and the failover, then leave no
// memcached of its own behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

it('npm start runs the seed example and the failover demo, and stops its servers', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const out = result.stdout;
  assert.match(out, /retrieve\("123", "key1"\) = "ABC"/);
  assert.match(out, /ejected from the ring: true/);
  assert.match(out, /writes go on/);
  assert.match(out, /rejoined the ring after the retry period: true/);
  const pids = [...out.matchAll(/memcached pid (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'memcached left running');
});
