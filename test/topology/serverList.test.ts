import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, endpointsFromServerList, MemcachedClient } from '../../src/index.js';
import { checkedServers } from '../../src/topology/serverList.js';
import type { ServerEndpoint } from '../../src/transport/ServerEndpoint.js';

/** The ConfigError `fn` throws, with the entry it names. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('no ConfigError');
}

describe('a server list is checked entry by entry', () => {
  it('an endpoint without an id is refused saying so, and how to build one', () => {
    // What a JavaScript caller writes who has not read the type: host and port, no id.
    const error = configError(
      () => new MemcachedClient({ servers: [{ host: '127.0.0.1', port: 11211 } as ServerEndpoint] }),
    );
    assert.match(error.message, /^servers entry 0 has no id: a server endpoint needs a non-empty string id/);
    assert.match(error.message, /endpointsFromServerList/);
    assert.deepEqual(error.details, { entry: 0 });
    const empty = configError(() =>
      checkedServers([...endpointsFromServerList('127.0.0.1:1'), { id: '', host: 'h', port: 1 }], 'servers'),
    );
    assert.match(empty.message, /^servers entry 1 has no id/);
  });

  it('an entry that is not an object, a bad weight and a repeated id name the entry', () => {
    const good = endpointsFromServerList('127.0.0.1:1')[0]!;
    const notObject = configError(() =>
      checkedServers([good, null as unknown as ServerEndpoint], 'setServers'),
    );
    assert.match(notObject.message, /^setServers entry 1 is not a server endpoint \(endpointsFromServerList/);
    const weight = configError(() => checkedServers([{ ...good, weight: 1.5 }], 'servers'));
    assert.match(
      weight.message,
      /^servers entry 0 \(127\.0\.0\.1:1\): weight must be a whole number from 0 to 10000, got 1\.5$/,
    );
    const twice = configError(() => checkedServers([good, { ...good }], 'servers'));
    assert.match(twice.message, /^servers entry 1 \(127\.0\.0\.1:1\) is listed twice$/);
    assert.throws(
      () => checkedServers('127.0.0.1:1' as unknown as ServerEndpoint[], 'servers'),
      /servers must be an array/,
    );
  });

  it('a checked endpoint keeps its password for the transport but does not print it', () => {
    const [checked] = checkedServers(
      [{ id: 'a', host: 'h', port: 1, username: 'u', password: 'secret-pw' }],
      'servers',
    );
    assert.equal(checked!.password, 'secret-pw');
    assert.ok(!JSON.stringify(checked).includes('secret-pw'));
  });
});
