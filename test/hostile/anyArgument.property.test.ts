// Every public MemcachedClient method driven with arbitrary arguments (fast-check) against a real
// memcached. Each call either gives a result of the right shape (and a write reads back what was
// written), or rejects with a typed error that names the argument (or the key) — and then nothing
// was sent: no command of it reached the tracing channel, where every submitted request starts.
// A canary key must survive every run: no argument can become a second command (0.2 ran
// `flush_all` from a CAS given to invalidate()).
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { MemcachedCache } from '../../src/cache/MemcachedCache.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { MemcachedCacheError } from '../../src/component/errors.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

const CANARY = 'property-canary';
/**
 * The same cases on every run, so a red CI is a regression, not the luck of a draw; set
 * PROPERTY_SEED=random (or a number) to explore other cases.
 */
const SEED =
  process.env.PROPERTY_SEED === 'random' ? {} : { seed: Number(process.env.PROPERTY_SEED ?? 20261207) };
const INJECTION = '1\r\nflush_all\r\nmn';

/** Anything a careless or hostile caller might pass where a number, string or option goes. */
const anything = fc.oneof(
  fc.constantFrom(
    INJECTION,
    '5 s',
    '',
    ' ',
    '1 ',
    '-1',
    NaN,
    Infinity,
    -Infinity,
    -1,
    1.5,
    0,
    1,
    2 ** 32,
    2 ** 53 + 1,
    2 ** 64,
    -1n,
    2n ** 64n,
    2n ** 64n - 1n,
    null,
    undefined,
    true,
    {},
    [],
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
);
/** Keys: mostly usable ones (so calls reach the wire), some hostile. */
const key = fc.oneof(
  fc.stringMatching(/^prop:[a-z0-9]{1,8}$/),
  fc.constantFrom(`k${INJECTION}`, 'a b', 'é', ''),
  fc.string({ maxLength: 300 }),
  anything,
);
const value = fc.oneof(fc.string({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), anything);
const options = fc.oneof(
  fc.constant(undefined),
  fc.record(
    { ttl: anything, flags: anything, cas: anything, initial: anything, refreshAhead: anything },
    { requiredKeys: [] },
  ),
);

/** One call: a method and its arguments. */
const call = fc.oneof(
  fc
    .tuple(fc.constantFrom('get', 'getWithTtl', 'delete'), key, options)
    .map(([m, k, o]) => ({ method: m, args: [k, o] })),
  fc
    .tuple(fc.constantFrom('gat', 'touch', 'getOrLease', 'invalidate'), key, anything, options)
    .map(([m, k, n, o]) => ({ method: m, args: [k, n, o] })),
  fc
    .tuple(fc.constantFrom('set', 'add', 'replace', 'append', 'prepend'), key, value, options)
    .map(([m, k, v, o]) => ({ method: m, args: [k, v, o] })),
  fc
    .tuple(fc.constantFrom('cas', 'revalidate'), key, value, anything, options)
    .map(([m, k, v, c, o]) => ({ method: m, args: [k, v, c, o] })),
  fc
    .tuple(fc.constantFrom('incr', 'decr'), key, anything, options)
    .map(([m, k, d, o]) => ({ method: m, args: [k, d, o] })),
  fc.tuple(fc.array(key, { maxLength: 5 })).map(([keys]) => ({ method: 'getMany', args: [keys] })),
  fc
    .tuple(
      fc.array(fc.record({ key, value, ttl: anything }, { requiredKeys: ['key', 'value'] }), {
        maxLength: 4,
      }),
    )
    .map(([entries]) => ({ method: 'setMany', args: [entries] })),
  fc.tuple(anything).map(([group]) => ({ method: 'stats', args: [group] })),
  fc.tuple(anything).map(([delay]) => ({ method: 'flush', args: [delay] })),
  fc.constant({ method: 'version', args: [] as unknown[] }),
);

/** The error codes of a refused argument: nothing was sent for these. */
const ARGUMENT_CODES = new Set(['INVALID_KEY', 'INVALID_VALUE', 'VALUE_TOO_LARGE']);

/** Codes a text-mode client refuses a meta-only call with (nothing sent either). */
const TEXT_REFUSAL_CODES = new Set(['CONFIG']);

for (const protocol of ['meta', 'text'] as const)
  describe(`any argument to any client method (protocol ${protocol})`, () => {
    let server: MemcachedProcess;
    let client: MemcachedClient;
    let submitted = 0;
    const onStart = (): void => {
      submitted++;
    };

    before(async () => {
      server = await startMemcached();
      client = new MemcachedClient({
        servers: [{ id: server.address, host: server.host, port: server.port }],
        requestTimeoutMs: 2000,
        // memcached itself speaks the text protocol too: the text engine's checks, without a proxy.
        protocol,
      });
      await client.connect();
      subscribe('tracing:memcached-cache:command:start', onStart);
    });
    after(async () => {
      unsubscribe('tracing:memcached-cache:command:start', onStart);
      client.close();
      await stopAllMemcached();
    });

    it('gives a result or a typed error naming the argument with nothing sent; the canary survives', async () => {
      await client.set(CANARY, 'alive');
      await fc.assert(
        fc.asyncProperty(call, async ({ method, args }) => {
          const before = submitted;
          let result: unknown;
          try {
            result = await (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
              method
            ]!(...args);
          } catch (error) {
            if (!(error instanceof MemcachedCacheError))
              throw new Error(`${method}: untyped ${String(error)}`);
            if (protocol === 'text' && TEXT_REFUSAL_CODES.has(error.code)) {
              assert.equal(
                submitted,
                before,
                `${method}: refused with ${error.code} yet a request was submitted`,
              );
              assert.match(error.message, /needs the meta protocol/);
              return;
            }
            if (ARGUMENT_CODES.has(error.code)) {
              assert.equal(
                submitted,
                before,
                `${method}: refused with ${error.code} yet a request was submitted`,
              );
              const named =
                error.details?.argument !== undefined ||
                error.key !== undefined ||
                /key|batch entry/i.test(error.message);
              assert.ok(
                named,
                `${method}: the error names neither the argument nor the key: ${error.message}`,
              );
              // A refused argument is never echoed when it could carry a line break.
              assert.ok(!error.message.includes('\r') && !error.message.includes('\n'), error.message);
              return;
            }
            // Anything else came from the server or the transport and must not be a protocol desync.
            assert.notEqual(error.code, 'PROTOCOL', `${method}: ${error.message}`);
            return;
          }
          checkShape(method, args, result);
          if (method === 'flush' && protocol === 'meta') {
            // A valid flush did what it was asked; cancel a delayed one and restore the canary.
            await client.flush(0);
            await client.set(CANARY, 'alive');
          }
          if (method === 'set') {
            const read = await client.get(args[0] as string);
            const expected = Buffer.from(args[1] as string | Uint8Array);
            if (read !== null) assert.deepEqual(read.value, expected, 'set then get reads what was written');
          }
          const canary = await client.get(CANARY);
          assert.equal(canary?.value.toString(), 'alive', `the canary is gone after ${method}`);
        }),
        { numRuns: protocol === 'meta' ? 1500 : 800, ...SEED },
      );
      assert.equal((await client.get(CANARY))?.value.toString(), 'alive');
    });
  });

/** What each method resolves with, when it resolves. */
function checkShape(method: string, _args: unknown[], result: unknown): void {
  switch (method) {
    case 'get':
    case 'gat':
      assert.ok(result === null || Buffer.isBuffer((result as { value: unknown }).value), method);
      return;
    case 'getWithTtl': {
      const item = result as { value: unknown; ttl: unknown } | null;
      assert.ok(
        item === null || (Buffer.isBuffer(item.value) && (item.ttl === null || Number.isInteger(item.ttl))),
      );
      return;
    }
    case 'delete':
    case 'touch':
    case 'add':
    case 'replace':
    case 'append':
    case 'prepend':
    case 'cas':
    case 'invalidate':
      assert.equal(typeof result, 'boolean', method);
      return;
    case 'incr':
    case 'decr':
      assert.ok(result === null || typeof result === 'bigint', `${method}: ${typeof result}`);
      return;
    case 'getOrLease':
      assert.equal(typeof (result as { win: unknown }).win, 'boolean', method);
      return;
    case 'getMany':
    case 'stats':
    case 'version':
      assert.ok(result instanceof Map, method);
      return;
    default:
      assert.equal(result, undefined, method);
  }
}

/** The cache's calls: keys, values (anything JSON-ish or not), timeouts and options of any kind. */
const cacheValue = fc.oneof(fc.jsonValue(), anything, fc.uint8Array({ maxLength: 32 }));
const cacheCall = fc.oneof(
  fc.tuple(fc.constantFrom('retrieve', 'remove'), key).map(([m, k]) => ({ method: m, args: [k] })),
  fc.tuple(key, cacheValue, anything).map(([k, v, t]) => ({ method: 'store', args: [k, v, t] })),
  fc.tuple(key, anything).map(([k, t]) => ({ method: 'invalidate', args: [k, t] })),
  fc
    .tuple(fc.oneof(fc.array(key, { maxLength: 4 }), anything))
    .map(([keys]) => ({ method: 'retrieveMany', args: [keys] })),
  fc
    .tuple(
      fc.oneof(
        fc.array(fc.tuple(key, cacheValue), { maxLength: 3 }),
        fc.array(fc.record({ key, value: cacheValue }), { maxLength: 2 }),
        anything,
      ),
      anything,
    )
    .map(([entries, t]) => ({ method: 'storeMany', args: [entries, t] })),
  fc
    .tuple(key, anything, cacheValue, options)
    .map(([k, t, v, o]) => ({ method: 'getOrStore', args: [k, t, async () => v, o] })),
);

describe('any argument to any MemcachedCache method', () => {
  let server: MemcachedProcess;
  let cache: MemcachedCache;
  let raw: MemcachedClient;

  before(async () => {
    server = await startMemcached();
    cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        server.host,
        'connection.port',
        server.port,
        'options.lease_timeout',
        1000,
      ),
    );
    await cache.open('property');
    raw = new MemcachedClient({ servers: [{ id: server.address, host: server.host, port: server.port }] });
  });
  after(async () => {
    raw.close();
    await cache.close('property');
    await stopAllMemcached();
  });

  it('gives a result or a typed error naming the argument; the canary survives', async () => {
    await raw.set(CANARY, 'alive');
    await fc.assert(
      fc.asyncProperty(cacheCall, async ({ method, args }) => {
        try {
          await (cache as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(
            'trace-1',
            ...args,
          );
        } catch (error) {
          if (!(error instanceof MemcachedCacheError)) throw new Error(`${method}: untyped ${String(error)}`);
          assert.equal(error.traceId, 'trace-1', `${method}: the error carries the trace id`);
          if (ARGUMENT_CODES.has(error.code)) {
            const named =
              error.details?.argument !== undefined ||
              error.key !== undefined ||
              /key|batch entry/i.test(error.message);
            assert.ok(named, `${method}: the error names neither the argument nor the key: ${error.message}`);
            assert.ok(!error.message.includes('\r') && !error.message.includes('\n'), error.message);
          } else assert.notEqual(error.code, 'PROTOCOL', `${method}: ${error.message}`);
        }
        const canary = await raw.get(CANARY);
        assert.equal(canary?.value.toString(), 'alive', `the canary is gone after ${method}`);
      }),
      {
        numRuns: 600,
        ...SEED,
        // Found by a random run of this property in CI: kept so every run tries them.
        examples: [
          [{ method: 'storeMany', args: [undefined, 0n] }],
          [{ method: 'retrieveMany', args: [undefined] }],
        ],
      },
    );
  });
});
