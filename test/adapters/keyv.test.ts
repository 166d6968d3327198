// Keyv's own storage-adapter contract (@keyv/test-suite: api, values, namespace suites) run on
// node:test against a real memcached, plus the namespace/clear and error behaviour of the store.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import keyvTestSuite, { keyvApiTests, keyvNamespaceTest, keyvValueTests } from '@keyv/test-suite';
import Keyv from 'keyv';
import { KeyvMemcachedStore } from '../../src/adapters/KeyvMemcachedStore.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import {
  type MemcachedProcess,
  rawCommand,
  recordCommands,
  startMemcached,
  stopAllMemcached,
  waitFor,
} from '../support/index.js';

void keyvTestSuite; // the default export runs the same three suites as below, unnamed

/** The subset of vitest's `expect` that @keyv/test-suite uses, on node:assert. */
function makeExpect() {
  let count = 0;
  let expected: number | null = null;
  const expect = (actual: unknown) => {
    count++;
    return {
      toBe: (wanted: unknown) =>
        assert.ok(Object.is(actual, wanted), `expected ${String(actual)} to be ${String(wanted)}`),
      toEqual: (wanted: unknown) => assert.deepStrictEqual(actual, wanted),
      toBeTruthy: () => assert.ok(actual, `expected ${String(actual)} to be truthy`),
      toBeFalsy: () => assert.ok(!actual, `expected ${String(actual)} to be falsy`),
      toBeUndefined: () => assert.equal(actual, undefined),
      toBeDefined: () => assert.notEqual(actual, undefined),
      toBeNull: () => assert.equal(actual, null),
      not: {
        toBe: (wanted: unknown) =>
          assert.ok(!Object.is(actual, wanted), `expected ${String(actual)} not to be ${String(wanted)}`),
      },
    };
  };
  expect.assertions = (n: number) => {
    expected = n;
  };
  const verify = () => {
    if (expected !== null) assert.equal(count, expected, `expected ${expected} assertions, got ${count}`);
  };
  return { expect, verify };
}

type TestFn = (t: { expect: ReturnType<typeof makeExpect>['expect'] }) => unknown;
const vitestLike = {
  beforeEach: (fn: () => unknown) => beforeEach(async () => void (await fn())),
  afterEach: (fn: () => unknown) => afterEach(async () => void (await fn())),
  it: (name: string, fn: TestFn) =>
    it(name, async () => {
      const { expect, verify } = makeExpect();
      await fn({ expect });
      verify();
    }),
};

let server: MemcachedProcess;
let client: MemcachedClient;
const store = () => new KeyvMemcachedStore({ client });
const endpoint = () => ({ id: server.address, host: server.host, port: server.port });

before(async () => {
  server = await startMemcached();
  client = new MemcachedClient({ servers: [endpoint()] });
});
after(async () => {
  client.close();
  await stopAllMemcached();
});

// The suites take vitest's module; only beforeEach/afterEach/it and t.expect are used.
describe('@keyv/test-suite api', () => keyvApiTests(vitestLike as never, Keyv, store));
describe('@keyv/test-suite values', () => keyvValueTests(vitestLike as never, Keyv, store));
describe('@keyv/test-suite namespace', () => keyvNamespaceTest(vitestLike as never, Keyv, store));

describe('KeyvMemcachedStore', () => {
  it('a namespaced operation is one request: no generation traffic per operation (no hot key)', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'rt' });
    await keyv.set('k', 'v');
    const recorded = recordCommands();
    try {
      for (let i = 0; i < 100; i++) assert.equal(await keyv.get('k'), 'v');
      await Promise.all(Array.from({ length: 100 }, () => keyv.get('k')));
      await keyv.set('k2', 'v2');
      await keyv.delete('k2');
    } finally {
      recorded.stop();
    }
    const counts: Record<string, number> = {};
    for (const c of recorded.started) counts[c.command] = (counts[c.command] ?? 0) + 1;
    assert.deepEqual(counts, { get: 200, set: 1, delete: 1 });
  });

  it('clear() in another process is seen within generationRefreshMs; in this client at once', async () => {
    const otherClient = new MemcachedClient({ servers: [endpoint()] }); // "another process"
    try {
      const refreshMs = 300;
      const here = new Keyv({
        store: new KeyvMemcachedStore({ client, generationRefreshMs: refreshMs }),
        namespace: 'w',
      });
      const sameClient = new Keyv({ store: store(), namespace: 'w' });
      const there = new Keyv({ store: new KeyvMemcachedStore({ client: otherClient }), namespace: 'w' });
      await here.set('k', 'old');
      assert.equal(await there.get('k'), 'old');
      await sameClient.clear(); // another store on the same client: shares the generation
      assert.equal(await here.get('k'), undefined);
      await here.set('k', 'kept');
      const cleared = Date.now();
      await there.clear();
      // The window: `here` may read 'kept' until its generation is older than refreshMs.
      assert.ok(await waitFor(async () => (await here.get('k')) === undefined, refreshMs + 2000));
      assert.ok(Date.now() - cleared <= refreshMs + 2000);
    } finally {
      otherClient.close();
    }
  });

  it('clear() hides a namespace in every process sharing it and leaves others alone (generationRefreshMs 0)', async () => {
    const otherClient = new MemcachedClient({ servers: [endpoint()] }); // "another process"
    try {
      const strict = () => new KeyvMemcachedStore({ client, generationRefreshMs: 0 });
      const a1 = new Keyv({ store: strict(), namespace: 'ns-a' });
      const a2 = new Keyv({
        store: new KeyvMemcachedStore({ client: otherClient, generationRefreshMs: 0 }),
        namespace: 'ns-a',
      });
      const b = new Keyv({ store: store(), namespace: 'ns-b' });
      await a1.set('k', 'a-value');
      await b.set('k', 'b-value');
      assert.equal(await a2.get('k'), 'a-value');
      await a2.clear();
      assert.equal(await a1.get('k'), undefined);
      assert.equal(await a2.get('k'), undefined);
      assert.equal(await b.get('k'), 'b-value');
      await a1.set('k', 'new');
      assert.equal(await a2.get('k'), 'new');
    } finally {
      otherClient.close();
    }
  });

  it('stores namespaced keys under <namespace>@<generation>: and never flushes', async () => {
    await rawCommand(server.target, 'set outside 0 0 1\r\nx\r\n');
    const keyv = new Keyv({ store: store(), namespace: 'gen' });
    await keyv.set('k', 'v');
    const generation = (
      await rawCommand(server.target, 'get keyv-namespace:gen\r\n', { until: 'END\r\n' })
    ).toString();
    const number = /\r\n(\d+)\r\n/.exec(generation)?.[1];
    assert.ok(number, generation);
    const raw = (await rawCommand(server.target, `get gen@${number}:k\r\n`, { until: 'END\r\n' })).toString();
    assert.match(raw, /^VALUE gen@\d+:k 0 /);
    await keyv.clear();
    assert.match(
      (await rawCommand(server.target, 'get outside\r\n', { until: 'END\r\n' })).toString(),
      /VALUE outside/,
    );
  });

  it('a store without a namespace clears with flush_all', async () => {
    const bare = new KeyvMemcachedStore({ client });
    await bare.set('plain', 'v');
    assert.equal(await bare.get('plain'), 'v');
    await bare.clear();
    assert.equal(await bare.get('plain'), undefined);
  });

  it('TTL is in milliseconds and memcached expires the entry itself', async () => {
    const raw = store();
    await raw.set('ttl-key', 'v', 1000); // sent as 2 s: gone 1–2 s after the set
    assert.equal(await raw.get('ttl-key'), 'v');
    await new Promise((r) => setTimeout(r, 2500)); // the behaviour under test: memcached expires it
    assert.equal(await raw.get('ttl-key'), undefined);
  });

  it('round-trips strings, Buffers and JSON values directly', async () => {
    const raw = store();
    await raw.set('s', 'text ✓');
    await raw.set('b', Buffer.from([0, 1, 255]));
    await raw.set('o', { a: [1, 2] });
    assert.deepEqual(await raw.getMany(['s', 'b', 'o', 'missing']), [
      'text ✓',
      Buffer.from([0, 1, 255]),
      { a: [1, 2] },
      undefined,
    ]);
    assert.deepEqual(await raw.hasMany(['s', 'missing']), [true, false]);
    assert.equal(await raw.deleteMany(['s', 'b']), true);
    assert.equal(await raw.deleteMany(['s', 'o']), false);
  });

  it('emits error events, and Keyv relays them, when the server is unreachable', async () => {
    const dead = new KeyvMemcachedStore({ servers: '127.0.0.1:1', retries: 0, connectTimeoutMs: 500 });
    const seen: unknown[] = [];
    dead.on('error', (e) => seen.push(e));
    await assert.rejects(dead.get('x'), /ECONNREFUSED|refusing/);
    assert.equal(seen.length, 1);
    const keyv = new Keyv({ store: dead });
    const relayed: unknown[] = [];
    keyv.on('error', (e) => relayed.push(e));
    assert.equal(await keyv.set('x', 'y'), false);
    assert.ok(relayed.length >= 1);
    await dead.disconnect();
  });

  it('a bad generationRefreshMs is refused by name', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      assert.throws(
        () => new KeyvMemcachedStore({ servers: '127.0.0.1:1', generationRefreshMs: bad }),
        (e: unknown) => e instanceof RangeError && /generationRefreshMs must be a number ≥ 0/.test(e.message),
        String(bad),
      );
    }
    const shared = new KeyvMemcachedStore({ client, generationRefreshMs: 0 });
    assert.equal(shared.client, client);
  });
});
