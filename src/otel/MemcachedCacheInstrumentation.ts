/**
 * OpenTelemetry for memcached-cache (`memcached-cache/otel`): spans and the
 * `db.client.operation.duration` histogram from the package's TracingChannels, following the
 * database semantic conventions. Nothing is patched: it subscribes to `memcached-cache:command`
 * and `memcached-cache:connect` while enabled and unsubscribes when disabled.
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
  private duration: Histogram;
  private enabled = false;
  private readonly spans = new WeakMap<object, Traced>();
  private readonly commands: Handlers<CommandTraceContext>;
  private readonly connects: Handlers<ConnectTraceContext>;

  constructor(config: MemcachedCacheInstrumentationConfig = {}) {
    this.config = { enabled: true, connectSpans: true, ...config };
    this.tracer = trace.getTracer(NAME, VERSION);
    this.duration = this.histogram(metrics.getMeterProvider());
    this.commands = this.handlers<CommandTraceContext>((c) => c.command, operationAttributes, true);
    this.connects = this.handlers<ConnectTraceContext>(() => 'connect', connectAttributes, false);
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
    this.duration = this.histogram(provider);
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

  private histogram(provider: MeterProvider): Histogram {
    return provider.getMeter(NAME, VERSION).createHistogram('db.client.operation.duration', {
      description: 'Duration of memcached client operations',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  /**
   * Handlers for one channel: a span starts in the caller's active context at `start` (which
   * runs synchronously in the caller's call), and ends at `asyncEnd` with the attributes the
   * action filled in (the server is known only once the request was routed).
   */
  private handlers<C extends ServerAttributes & { error?: unknown }>(
    name: (c: C) => string,
    attributes: (c: C) => Attributes,
    measured: boolean,
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
        if (measured) this.duration.record((performance.now() - traced.startedAt) / 1000, final);
      },
    };
  }
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

function operationAttributes(c: CommandTraceContext): Attributes {
  const attributes: Attributes = { 'db.system.name': 'memcached', 'db.operation.name': c.command };
  // The conventions count a batch only from two operations on.
  if (c.batchSize !== undefined && c.batchSize >= 2) attributes['db.operation.batch.size'] = c.batchSize;
  return addServer(attributes, c);
}

/** A low-cardinality error type: the error's class name (`TimeoutError`, `ConnectionError`, …). */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
