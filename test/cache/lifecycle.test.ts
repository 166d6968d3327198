import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, InvalidStateError, MemcachedCache, MemcachedLock } from '../../src/index.js';
import {
  connectStarted,
  freePort,
  type MemcachedProcess,
  quietConnections,
  settleConnections,
  startMemcached,
  stopAllMemcached,
} from '../support/index.js';

// Issue 11, item 2: the component lifecycle under races, checked by counting the server's sockets.

function config(server: { host: string; port: number }, ...tuples: unknown[]): ConfigParams {
  return ConfigParams.fromTuples('connection.host', server.host, 'connection.port', server.port, ...tuples);
}

type Component = MemcachedCache | MemcachedLock;
const KINDS: Array<[string, () => Component]> = [
  ['MemcachedCache', () => new MemcachedCache()],
  ['MemcachedLock', () => new MemcachedLock()],
];

describe('component lifecycle races (real memcached, sockets counted)', () => {
  let server: MemcachedProcess;
  let baseline: number;
  before(async () => {
    server = await startMemcached();
    baseline = await quietConnections(server.target);
  });
  after(() => stopAllMemcached());

  for (const [name, make] of KINDS) {
    it(`${name}: close() right after open() wins: open rejects InvalidStateError, not open, no socket left`, async () => {
      const component = make();
      component.configure(config(server));
      const opening = component.open('t-1');
      await component.close('t-1');
      await assert.rejects(opening, (error: unknown) => {
        assert.ok(error instanceof InvalidStateError, String(error));
        assert.match((error as Error).message, /closed while open\(\) was in progress/);
        return true;
      });
      assert.equal(component.isOpen(), false);
      assert.equal(await settleConnections(server.target, baseline), baseline);
    });

    it(`${name}: open() right after a close() that interrupted an open() opens afresh`, async () => {
      const component = make();
      component.configure(config(server));
      const first = assert.rejects(component.open(null), InvalidStateError);
      await component.close(null);
      await component.open(null);
      assert.equal(component.isOpen(), true);
      await first;
      await component.close(null);
      assert.equal(await settleConnections(server.target, baseline), baseline);
    });

    it(`${name}: close() while connecting to a stopped server settles open() at once and frees the socket`, async () => {
      const stopped = await startMemcached();
      const before = await quietConnections(stopped.target);
      await stopped.pauseAndWait(); // really stopped: a handshake sent now is never answered
      try {
        const component = make();
        component.configure(config(stopped, 'options.reconnect', 10_000, 'options.request_timeout', 10_000));
        const connecting = connectStarted(
          (c) => c.serverPort === stopped.port,
          5000,
          'connect to the stopped server',
        );
        const opening = component.open(null);
        const outcome = opening.then(
          () => 'opened',
          (error: unknown) => error,
        );
        await connecting; // the socket is connecting (its handshake can never be answered)
        const started = Date.now();
        await component.close(null);
        const error = await outcome;
        assert.ok(error instanceof InvalidStateError, String(error));
        assert.ok(Date.now() - started < 1000, 'open() settled promptly, not after reconnect');
        assert.equal(component.isOpen(), false);
      } finally {
        stopped.resume();
      }
      assert.equal(await settleConnections(stopped.target, before), before);
      await stopped.stop();
    });

    it(`${name}: concurrent open() calls share one client; close() frees every socket`, async () => {
      const component = make();
      component.configure(config(server, 'options.pool_size', 1));
      await Promise.all([component.open(null), component.open(null), component.open(null)]);
      assert.equal(component.isOpen(), true);
      assert.equal(
        await settleConnections(server.target, baseline + 1),
        baseline + 1,
        'one socket, not three',
      );
      await component.close(null);
      assert.equal(await settleConnections(server.target, baseline), baseline);
    });

    it(`${name}: a configure() that throws ConfigError changes nothing (the old server list stays)`, async () => {
      const component = make();
      component.configure(config(server));
      const unused = await freePort();
      assert.throws(
        () =>
          component.configure(
            ConfigParams.fromTuples(
              'connection.host',
              '127.0.0.1',
              'connection.port',
              unused,
              'options.pool_size',
              'abc',
            ),
          ),
        /options\.pool_size/,
      );
      await component.open(null); // would fail on the rejected config's port
      assert.equal(component.isOpen(), true);
      await component.close(null);
    });

    it(`${name}: configure() while open is refused (InvalidStateError); after close() it applies at the next open()`, async () => {
      const component = make();
      component.configure(config(server, 'options.key_prefix', 'a:'));
      await component.open(null);
      assert.throws(() => component.configure(config(server, 'options.key_prefix', 'b:')), InvalidStateError);
      await component.close(null);
      component.configure(config(server, 'options.key_prefix', 'b:'));
      await component.open(null);
      if (component instanceof MemcachedCache) {
        await component.store(null, 'k', 'v', 5000);
        assert.notEqual(await component.getClient().get('b:k'), null, 'the new prefix applies');
      } else {
        assert.equal(await component.tryAcquireLock(null, 'lock-k', 5000), true);
        const lock = new MemcachedLock();
        lock.configure(config(server));
        await lock.open(null);
        assert.equal(await lock.tryAcquireLock(null, 'b:lock-k', 5000), false, 'held under the new prefix');
        await lock.close(null);
      }
      await component.close(null);
    });
  }
});
