// Issue 14: `memcached-cache/otel` with the real OpenTelemetry SDK (in-memory span exporter and
// metric reader, AsyncLocalStorage context manager) against real memcached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  AggregationTemporality,
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { TimeoutError } from '../../src/index.js';
import { MemcachedCacheInstrumentation } from '../../src/otel/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

/** A metric reader that keeps what it collects in memory. */
class InMemoryMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new InMemoryMetricReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager().enable();
const instrumentation = new MemcachedCacheInstrumentation();
const tracer = tracerProvider.getTracer('test');

let server: MemcachedProcess;
let client: MemcachedClient;
let unregister: () => void;

/** Runs `work` under a fresh parent span; returns the parent and the spans that ended meanwhile. */
async function underParent(
  work: () => Promise<unknown>,
): Promise<{ parent: ReadableSpan; spans: ReadableSpan[] }> {
  exporter.reset();
  await tracer.startActiveSpan('parent', async (parent: Span) => {
    try {
      await work();
    } finally {
      parent.end();
    }
  });
  const finished = exporter.getFinishedSpans();
  const parent = finished.find((s) => s.name === 'parent')!;
  return { parent, spans: finished.filter((s) => s !== parent) };
}

async function collected() {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

async function durationPoints(): Promise<HistogramMetricData['dataPoints']> {
  const metric = (await collected()).find((m) => m.descriptor.name === 'db.client.operation.duration');
  return (metric as HistogramMetricData | undefined)?.dataPoints ?? [];
}

/** The cumulative `memcached_cache.client.reads` counter, summed by hit. */
async function readsByHit(): Promise<{ hit: number; miss: number }> {
  const metric = (await collected()).find((m) => m.descriptor.name === 'memcached_cache.client.reads') as
    | SumMetricData
    | undefined;
  const sums = { hit: 0, miss: 0 };
  for (const point of metric?.dataPoints ?? [])
    sums[point.attributes['memcached_cache.hit'] === true ? 'hit' : 'miss'] += point.value;
  return sums;
}

function assertChild(span: ReadableSpan, parent: ReadableSpan, name: string): void {
  assert.equal(span.name, name);
  assert.equal(span.kind, SpanKind.CLIENT);
  assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
  assert.equal(
    span.parentSpanContext?.spanId,
    parent.spanContext().spanId,
    `${name} is a child of the parent`,
  );
  assert.equal(span.attributes['db.system.name'], 'memcached');
  assert.equal(span.attributes['db.operation.name'] ?? 'connect', name);
  assert.equal(span.attributes['server.address'], server.host);
  assert.equal(span.attributes['server.port'], server.port);
}

before(async () => {
  context.setGlobalContextManager(contextManager);
  unregister = registerInstrumentations({
    instrumentations: [instrumentation],
    tracerProvider,
    meterProvider,
  });
  server = await startMemcached();
  client = new MemcachedClient({
    servers: [{ id: server.address, host: server.host, port: server.port }],
    requestTimeoutMs: 300,
    retries: 0,
  });
});
after(async () => {
  client.close();
  unregister();
  await stopAllMemcached();
  context.disable();
});

describe('MemcachedCacheInstrumentation with the OpenTelemetry SDK', () => {
  it('connect, set, get, a miss: CLIENT child spans of the caller with the conventions’ attributes', async () => {
    const { parent, spans } = await underParent(async () => {
      await client.connect();
      await client.set('otel:a', 'secret-value');
      await client.get('otel:a');
      await client.get('otel:missing');
    });
    assert.deepEqual(
      spans.map((s) => s.name),
      ['connect', 'set', 'get', 'get'],
    );
    const [connect, set, hit, miss] = spans as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    assertChild(connect, parent, 'connect');
    assertChild(set, parent, 'set');
    assertChild(hit, parent, 'get');
    assertChild(miss, parent, 'get');
    for (const span of spans) {
      assert.equal(span.status.code, SpanStatusCode.UNSET, 'a miss is not an error');
      assert.equal(span.attributes['error.type'], undefined);
      assert.ok(!JSON.stringify(span.attributes).includes('secret-value'));
    }
  });

  it('a hit and a miss differ: memcached_cache.hit on the span', async () => {
    await client.set('otel:hit', 'v');
    const { parent, spans } = await underParent(async () => {
      await client.get('otel:hit');
      await client.get('otel:absent');
    });
    const [hit, miss] = spans as [ReadableSpan, ReadableSpan];
    assertChild(hit, parent, 'get');
    assertChild(miss, parent, 'get');
    assert.equal(hit.attributes['memcached_cache.hit'], true);
    assert.equal(miss.attributes['memcached_cache.hit'], false);
  });

  it('a 100-key getMany is one span named BATCH get, with its batch size, keys and hits', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `otel:many:${i}`);
    await Promise.all(keys.slice(0, 40).map((k) => client.set(k, 'v')));
    const { parent, spans } = await underParent(() => client.getMany(keys));
    assert.equal(spans.length, 1);
    // The conventions: a batch of operations with one name is `BATCH <name>`; each key is an `mg`.
    assertChild(spans[0]!, parent, 'BATCH get');
    assert.equal(spans[0]!.attributes['db.operation.batch.size'], 100);
    assert.equal(spans[0]!.attributes['memcached_cache.keys'], 100);
    assert.equal(spans[0]!.attributes['memcached_cache.hits'], 40);
    assert.equal(spans[0]!.attributes['memcached_cache.hit'], undefined);
  });

  it('a one-key getMany request is not a batch: a get span with memcached_cache.hit', async () => {
    const { parent, spans } = await underParent(() => client.getMany(['otel:many:0']));
    assert.equal(spans.length, 1);
    assertChild(spans[0]!, parent, 'get');
    assert.equal(spans[0]!.attributes['db.operation.batch.size'], undefined);
    assert.equal(spans[0]!.attributes['memcached_cache.hit'], true);
  });

  it('metrics give the hit ratio: the duration histogram by hit, and memcached_cache.client.reads by key', async () => {
    const before = await readsByHit();
    await client.set('otel:ratio', 'v');
    await client.get('otel:ratio');
    await client.get('otel:ratio-missing');
    await client.getMany(['otel:ratio', 'otel:ratio-missing', 'otel:ratio-missing-2']);
    const after = await readsByHit();
    assert.deepEqual({ hit: after.hit - before.hit, miss: after.miss - before.miss }, { hit: 2, miss: 3 });
    const durations = await durationPoints();
    const gets = durations.filter((p) => p.attributes['db.operation.name'] === 'get');
    assert.ok(gets.some((p) => p.attributes['memcached_cache.hit'] === true));
    assert.ok(gets.some((p) => p.attributes['memcached_cache.hit'] === false));
  });

  it('a timeout on a SIGSTOPped server is an error span with error.type', async () => {
    await server.pauseAndWait();
    try {
      const { parent, spans } = await underParent(() =>
        assert.rejects(client.get('otel:stopped'), TimeoutError),
      );
      assert.equal(spans.length, 1);
      assertChild(spans[0]!, parent, 'get');
      assert.equal(spans[0]!.status.code, SpanStatusCode.ERROR);
      assert.equal(spans[0]!.attributes['error.type'], 'TimeoutError');
      assert.match(spans[0]!.status.message ?? '', /did not answer within 300 ms/);
    } finally {
      server.resume();
    }
  });

  it('db.client.operation.duration: a histogram in seconds with the same attributes', async () => {
    await client.get('otel:a'); // the connection may have been reset by the pause
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'db.client.operation.duration') as HistogramMetricData | undefined;
    assert.ok(metric, 'the histogram exists');
    assert.equal(metric.descriptor.unit, 's');
    const gets = metric.dataPoints.filter(
      (p) => p.attributes['db.operation.name'] === 'get' && p.attributes['error.type'] === undefined,
    );
    assert.equal(gets.length, 2, 'successful gets: one series for hits, one for misses');
    assert.ok(gets.reduce((n, p) => n + p.value.count, 0) >= 3, 'successful gets are counted');
    for (const get of gets) {
      assert.equal(get.attributes['db.system.name'], 'memcached');
      assert.equal(get.attributes['server.port'], server.port);
      assert.ok(get.value.max! < 1, 'seconds, not milliseconds');
    }
    const failed = metric.dataPoints.find((p) => p.attributes['error.type'] === 'TimeoutError');
    assert.ok(failed && failed.value.min! >= 0.25, 'the timed-out get took ~request_timeout');
  });

  it('disable() stops the spans; enable() brings them back', async () => {
    instrumentation.disable();
    const off = await underParent(() => client.get('otel:a'));
    assert.deepEqual(off.spans, []);
    instrumentation.enable();
    const on = await underParent(() => client.get('otel:a'));
    assert.deepEqual(
      on.spans.map((s) => s.name),
      ['get'],
    );
  });

  it('spans have no parent outside an active span', async () => {
    exporter.reset();
    await context.with(trace.deleteSpan(context.active()), () => client.get('otel:a'));
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.parentSpanContext, undefined);
  });
});
