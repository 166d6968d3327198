// Optional pip-services references of MemcachedCache: `*:logger:*:*:1.0` and
// `*:counters:*:*:1.0`, with tiny in-test implementations of ILogger / ICounters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemcachedCache } from '../../src/cache/MemcachedCache.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { ContextResolver } from '../../src/component/ContextResolver.js';
import { Descriptor } from '../../src/component/Descriptor.js';
import type { IContext } from '../../src/component/IContext.js';
import { References } from '../../src/component/References.js';
import { type MemcachedProcess, startMemcachedCluster, stopAllMemcached, waitFor } from '../support/index.js';

interface Line {
  level: string;
  traceId: string | null;
  message: string;
}

class TestLogger {
  lines: Line[] = [];
  private log(level: string, context: IContext | null, message: string, args: unknown[]) {
    let i = 0;
    this.lines.push({
      level,
      traceId: ContextResolver.getTraceId(context),
      message: message.replace(/%s/g, () => String(args[i++])),
    });
  }
  debug(context: IContext | null, message: string, ...args: unknown[]) {
    this.log('debug', context, message, args);
  }
  info(context: IContext | null, message: string, ...args: unknown[]) {
    this.log('info', context, message, args);
  }
  warn(context: IContext | null, message: string, ...args: unknown[]) {
    this.log('warn', context, message, args);
  }
  error(context: IContext | null, _error: Error | null, message: string, ...args: unknown[]) {
    this.log('error', context, message, args);
  }
}

class TestCounters {
  increments = new Map<string, number>();
  timings: string[] = [];
  open = 0;
  incrementOne(name: string) {
    this.increments.set(name, (this.increments.get(name) ?? 0) + 1);
  }
  beginTiming(name: string) {
    this.open++;
    return {
      endTiming: () => {
        this.open--;
        this.timings.push(name);
      },
    };
  }
}

let servers: MemcachedProcess[];
before(async () => {
  servers = await startMemcachedCluster(2);
});
after(() => stopAllMemcached());

function configured(extra: unknown[] = []): MemcachedCache {
  const cache = new MemcachedCache();
  cache.configure(
    ConfigParams.fromTuples(
      'connections.0.host',
      '127.0.0.1',
      'connections.0.port',
      servers[0]!.port,
      'connections.1.host',
      '127.0.0.1',
      'connections.1.port',
      servers[1]!.port,
      ...extra,
    ),
  );
  return cache;
}

describe('MemcachedCache logger and counters references', () => {
  it('works without them', async () => {
    const cache = configured();
    cache.setReferences(new References());
    await cache.open('t0');
    await cache.store('t0', 'ref:none', 1, 5000);
    assert.equal(await cache.retrieve('t0', 'ref:none'), 1);
    await cache.close('t0');
  });

  it('counts hits and misses and times retrieve/store', async () => {
    const counters = new TestCounters();
    const cache = configured();
    cache.setReferences(
      new References([new Descriptor('pip-services', 'counters', 'log', 'default', '1.0'), counters]),
    );
    await cache.open('t1');
    await cache.store('t1', 'ref:a', 'A', 5000);
    assert.equal(await cache.retrieve('t1', 'ref:a'), 'A');
    assert.equal(await cache.retrieve('t1', 'ref:missing'), null);
    assert.equal(await cache.retrieve('t1', 'ref:missing2'), null);
    await cache.close('t1');
    assert.equal(counters.increments.get('memcached.retrieve.hits'), 1);
    assert.equal(counters.increments.get('memcached.retrieve.misses'), 2);
    assert.deepEqual(counters.timings, [
      'memcached.store',
      'memcached.retrieve',
      'memcached.retrieve',
      'memcached.retrieve',
    ]);
    assert.equal(counters.open, 0, 'every timing is ended');
  });

  it('ends the timing when the operation fails', async () => {
    const counters = new TestCounters();
    const cache = configured();
    cache.setReferences(new References([new Descriptor('x', 'counters', 'x', 'x', '1.0'), counters]));
    await assert.rejects(cache.retrieve('t2', 'k'), /not open/);
    assert.equal(counters.open, 0);
    assert.deepEqual(counters.timings, ['memcached.retrieve']);
  });

  it('logs open and close with the trace id', async () => {
    const logger = new TestLogger();
    const cache = configured();
    cache.setReferences(
      new References([new Descriptor('pip-services', 'logger', 'console', 'default', '1.0'), logger]),
    );
    await cache.open('trace-open');
    await cache.close('trace-close');
    await cache.close('trace-close-again'); // idempotent: logged once
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.traceId]),
      [
        ['info', 'trace-open'],
        ['info', 'trace-close'],
      ],
    );
    assert.match(logger.lines[0]!.message, new RegExp(`127\\.0\\.0\\.1:${servers[0]!.port}`));
  });

  it('logs server ejection and rejoin with the trace id of open', async () => {
    const logger = new TestLogger();
    const cache = configured([
      'options.failures',
      1,
      'options.retry',
      200,
      'options.retries',
      0,
      'options.request_timeout',
      500,
    ]);
    cache.setReferences(
      new References([new Descriptor('pip-services', 'logger', 'console', 'default', '1.0'), logger]),
    );
    await cache.open('trace-eject');
    const victim = servers[1]!;
    const victimId = `127.0.0.1:${victim.port}`;
    await victim.kill();
    try {
      for (let i = 0; i < 50 && !logger.lines.some((l) => l.level === 'warn'); i++) {
        await cache.retrieve('trace-op', `ref:eject:${i}`).catch(() => {});
      }
      const warn = logger.lines.find((l) => l.level === 'warn');
      assert.ok(warn, 'ejection is logged');
      assert.equal(warn.traceId, 'trace-eject');
      assert.match(warn.message, new RegExp(`${victimId} ejected`));
      await victim.restart();
      await waitFor(() => logger.lines.some((l) => l.message.includes('rejoined')), 5000);
      const rejoin = logger.lines.find((l) => l.message.includes('rejoined'));
      assert.ok(rejoin, 'rejoin is logged');
      assert.equal(rejoin.traceId, 'trace-eject');
      assert.match(rejoin.message, new RegExp(victimId));
    } finally {
      await cache.close('trace-eject');
      if (!victim.running) await victim.restart();
    }
  });
});
