// The command line through real twemproxy: the default (meta) protocol explains itself instead of
// saying "cannot reach", and --protocol text works.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoStack, cli } from '../cli/spawnCli.js';
import {
  startMemcachedCluster,
  startTwemproxy,
  stopAllMemcached,
  stopAllTwemproxy,
  type TwemproxyProcess,
} from '../support/index.js';

let proxy: TwemproxyProcess;
before(async () => {
  const servers = await startMemcachedCluster(3);
  proxy = await startTwemproxy({ servers: servers.map((s) => ({ host: s.host, port: s.port })) });
});
after(async () => {
  await stopAllTwemproxy();
  await stopAllMemcached();
});

describe('memcached-cache behind twemproxy', () => {
  test('the default protocol: exit 3, the proxy named, --protocol text suggested, not "cannot reach"', async () => {
    const run = await cli(['get', 'k', '--servers', `127.0.0.1:${proxy.port}`]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /twemproxy/);
    assert.match(run.stderr, /--protocol text/);
    assert.doesNotMatch(run.stderr, /cannot reach/);
    assertNoStack(run.stderr);
  });

  test('--protocol text: set, get -v refused cleanly, get, incr, delete', async () => {
    const at = ['--servers', `127.0.0.1:${proxy.port}`, '--protocol', 'text'];
    assert.equal((await cli(['set', 'cli-k', 'hello', ...at])).code, 0);
    const got = await cli(['get', 'cli-k', ...at]);
    assert.deepEqual([got.code, got.stdout], [0, 'hello\n']);
    const json = await cli(['get', 'cli-k', '--json', ...at]);
    assert.equal(JSON.parse(json.stdout).value, 'hello');
    const verbose = await cli(['get', 'cli-k', '-v', ...at]);
    assert.equal(verbose.code, 2);
    assert.match(verbose.stderr, /getWithTtl\(\) needs the meta protocol/);
    assert.equal((await cli(['incr', 'cli-n', '5', ...at])).code, 1, 'missing counter');
    const stats = await cli(['stats', ...at]);
    assert.notEqual(stats.code, 0);
    assert.match(stats.stderr, /needs the meta protocol/);
    assert.equal((await cli(['delete', 'cli-k', ...at])).code, 0);
    assert.equal((await cli(['get', 'cli-k', ...at])).code, 1);
    const bad = await cli(['get', 'k', '--protocol', 'binary', '--servers', `127.0.0.1:${proxy.port}`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--protocol must be one of meta, text/);
  });
});
