/**
 * OpenTelemetry for memcached-cache (`memcached-cache/otel`): spans, the
 * `db.client.operation.duration` histogram and the `memcached_cache.client.reads` counter from
 * the package's TracingChannels, following the database semantic conventions. Nothing is
 * patched: it subscribes to `memcached-cache:command` and `memcached-cache:connect` while enabled
 * and unsubscribes when disabled.
 *
 * Hit or miss: the conventions have no attribute for it (`db.response.status_code` is for
 * warnings and errors), so it is ours, namespaced by the package as the conventions ask of
 * custom attributes: `memcached_cache.hit` (boolean) on single-key reads, spans and histogram;
 * `memcached_cache.hits` and `memcached_cache.keys` on batch spans only (counts would split the
 * histogram into a series per value). The counter counts keys read, by `memcached_cache.hit`, so
 * a hit ratio over gets and batches alike is `reads{hit=true} / reads`.
 *
 * Batches: a `getMany` sends one `mg` per key to each server, pipelined, so a request of two keys
 * or more is a batch of `get`s, named `BATCH get` as the conventions name a batch of operations
 * with one name, with `db.operation.batch.size`; a request of one key is a plain `get`.
 *
 * ```ts
 * registerInstrumentations({ instrumentations: [new MemcachedCacheInstrumentation()] });
 * ```
 *
 * It needs only `@opentelemetry/api` (an optional peer dependency); it is shaped like the
 * `Instrumentation` interface of `@opentelemetry/instrumentation`, so `registerInstrumentations`
 * and the Node SDK accept it. The package root never imports this file.
 */
import { createRequire } from 'node:module';
import {
  type Attributes,
  type Counter,
  context,
  type Histogram,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type CommandTraceContext, commandTracing } from '../client/diagnostics.js';
import { type ConnectTraceContext, connectTracing, type ServerAttributes } from '../transport/tracing.js';

export interface MemcachedCacheInstrumentationConfig {
  /** Enable at construction (default true), as every OpenTelemetry instrumentation. */
  enabled?: boolean;
  /** Also trace each new connection as a `connect` span (default true). */
  connectSpans?: boolean;
}

const NAME = 'memcached-cache';
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
/** The histogram's bucket advice from the semantic conventions for database client durations. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/** Custom attributes (no convention exists for a cache hit). */
const HIT = 'memcached_cache.hit';
const HITS = 'memcached_cache.hits';
const KEYS = 'memcached_cache.keys';

interface Traced {
  span: Span;
  startedAt: number;
}

type Handlers<C extends object> = {
  start(context: C): void;
  end(context: C): void;
  asyncStart(context: C): void;
  asyncEnd(context: C): void;
  error(context: C): void;
};

export class MemcachedCacheInstrumentation {
  readonly instrumentationName = NAME;
  readonly instrumentationVersion = VERSION;
  private config: MemcachedCacheInstrumentationConfig;
  private tracer: Tracer;
  private instruments: Instruments;
  private enabled = false;
  private readonly spans = new WeakMap<object, Traced>();
  private readonly commands: Handlers<CommandTraceContext>;
  private readonly connects: Handlers<ConnectTraceContext>;

  constructor(config: MemcachedCacheInstrumentationConfig = {}) {
    this.config = { enabled: true, connectSpans: true, ...config };
    this.tracer = trace.getTracer(NAME, VERSION);
    this.instruments = instrumentsOf(metrics.getMeterProvider());
    this.commands = this.handlers<CommandTraceContext>(operationName, operationAttributes, (c, a, s) =>
      this.measure(c, a, s),
    );
    this.connects = this.handlers<ConnectTraceContext>(() => 'connect', connectAttributes, null);
    if (this.config.enabled) this.enable();
  }

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    commandTracing.subscribe(this.commands);
    if (this.config.connectSpans) connectTracing.subscribe(this.connects);
  }

  disable(): void {
    if (!this.enabled) return;
    this.enabled = false;
    commandTracing.unsubscribe(this.commands);
    if (this.config.connectSpans) connectTracing.unsubscribe(this.connects);
  }

  setTracerProvider(provider: TracerProvider): void {
    this.tracer = provider.getTracer(NAME, VERSION);
  }

  setMeterProvider(provider: MeterProvider): void {
    this.instruments = instrumentsOf(provider);
  }

  getConfig(): MemcachedCacheInstrumentationConfig {
    return { ...this.config };
  }

  setConfig(config: MemcachedCacheInstrumentationConfig = {}): void {
    const wasEnabled = this.enabled;
    this.disable();
    this.config = { enabled: true, connectSpans: true, ...config };
    if (wasEnabled) this.enable();
  }

  /**
   * Metrics of one finished command: the duration with the span's attributes less the batch
   * counts, and the keys read by hit. `attributes` is the span's final set, reused.
   */
  private measure(c: CommandTraceContext, attributes: Attributes, seconds: number): void {
    const { duration, reads } = this.instruments;
    if (attributes[HITS] === undefined) {
      duration.record(seconds, attributes);
      if (attributes[HIT] !== undefined) reads.add(1, attributes);
      return;
    }
    const hits = c.hits ?? 0;
    const keys = c.keyCount ?? 0;
    delete attributes[HITS];
    delete attributes[KEYS];
    duration.record(seconds, attributes);
    if (hits > 0) reads.add(hits, { ...attributes, [HIT]: true });
    if (keys > hits) reads.add(keys - hits, { ...attributes, [HIT]: false });
  }

  /**
   * Handlers for one channel: a span starts in the caller's active context at `start` (which
   * runs synchronously in the caller's call), and ends at `asyncEnd` with the attributes the
   * action filled in (the server is known only once the request was routed).
   */
  private handlers<C extends ServerAttributes & { error?: unknown }>(
    name: (c: C) => string,
    attributes: (c: C) => Attributes,
    measure: ((c: C, attributes: Attributes, seconds: number) => void) | null,
  ): Handlers<C> {
    const nothing = () => {};
    return {
      start: (c) => {
        const span = this.tracer.startSpan(
          name(c),
          { kind: SpanKind.CLIENT, attributes: attributes(c) },
          context.active(),
        );
        this.spans.set(c, { span, startedAt: performance.now() });
      },
      end: nothing,
      asyncStart: nothing,
      error: nothing,
      asyncEnd: (c) => {
        const traced = this.spans.get(c);
        if (traced === undefined) return; // started before enable()
        this.spans.delete(c);
        const final = attributes(c);
        if (c.error !== undefined) {
          final['error.type'] = errorType(c.error);
          traced.span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(c.error) });
        }
        traced.span.setAttributes(final);
        traced.span.end();
        if (measure !== null) measure(c, final, (performance.now() - traced.startedAt) / 1000);
      },
    };
  }
}

interface Instruments {
  duration: Histogram;
  reads: Counter;
}

function instrumentsOf(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(NAME, VERSION);
  return {
    duration: meter.createHistogram('db.client.operation.duration', {
      description: 'Duration of memcached client operations',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    reads: meter.createCounter('memcached_cache.client.reads', {
      description: 'Keys read (get, gat, getOrLease, getMany), by memcached_cache.hit',
      unit: '{key}',
    }),
  };
}

/** `server.address` and `server.port` of a context, added to `attributes`. */
function addServer(attributes: Attributes, c: ServerAttributes): Attributes {
  if (c.serverAddress !== undefined) attributes['server.address'] = c.serverAddress;
  if (c.serverPort !== undefined) attributes['server.port'] = c.serverPort;
  return attributes;
}

function connectAttributes(c: ConnectTraceContext): Attributes {
  return addServer({ 'db.system.name': 'memcached' }, c);
}

/** `BATCH get` for a getMany request of two keys or more (one `mg` each); `get` for one key. */
function operationName(c: CommandTraceContext): string {
  if (c.command !== 'getMany') return c.command;
  // The conventions count a batch only from two operations on.
  return c.batchSize !== undefined && c.batchSize >= 2 ? 'BATCH get' : 'get';
}

/**
 * The attributes of a command: at `start` the operation and (once routed) the server; at
 * `asyncEnd` also what the reply said — hit for a single-key read, hits and keys for a batch.
 */
function operationAttributes(c: CommandTraceContext): Attributes {
  const name = operationName(c);
  const attributes: Attributes = { 'db.system.name': 'memcached', 'db.operation.name': name };
  const batch = name === 'BATCH get';
  if (batch) attributes['db.operation.batch.size'] = c.batchSize;
  addServer(attributes, c);
  if (c.hits !== undefined) {
    if (batch) {
      attributes[HITS] = c.hits;
      attributes[KEYS] = c.keyCount;
    } else attributes[HIT] = c.hits > 0;
  } else if (c.hit !== undefined) attributes[HIT] = c.hit;
  return attributes;
}

/** A low-cardinality error type: the error's class name (`TimeoutError`, `ConnectionError`, …). */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
