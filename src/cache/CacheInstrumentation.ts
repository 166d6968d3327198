/**
 * Optional pip-services logging and performance counters for MemcachedCache. Both references are
 * optional and looked up once in `setReferences`; without them every call here is a single
 * null check.
 *
 * - logger `*:logger:*:*:1.0` (pip-services ILogger shape): `info` on open/close, `warn` when a
 *   server is ejected, `info` when it rejoins — each with the trace id of the call (for
 *   ejection/rejoin: the trace id `open` was called with).
 * - counters `*:counters:*:*:1.0` (pip-services ICounters shape): `incrementOne` of
 *   `memcached.retrieve.hits` / `memcached.retrieve.misses`, `beginTiming` of
 *   `memcached.retrieve` / `memcached.store`; `memcached.refresh.failures` for background
 *   refresh-ahead loaders that threw (also logged with `warn`).
 */
import type { MemcachedClient } from '../client/MemcachedClient.js';
import { Context } from '../component/Context.js';
import { Descriptor } from '../component/Descriptor.js';
import type { ContextLike, IContext } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';

/** The part of pip-services' ILogger used here. */
export interface CacheLogger {
  debug(context: IContext | null, message: string, ...args: unknown[]): void;
  info(context: IContext | null, message: string, ...args: unknown[]): void;
  warn(context: IContext | null, message: string, ...args: unknown[]): void;
}

/** The part of pip-services' ICounters used here. */
export interface CacheCounters {
  beginTiming(name: string): { endTiming(): void };
  incrementOne(name: string): void;
}

export const COUNTER_RETRIEVE_HITS = 'memcached.retrieve.hits';
export const COUNTER_RETRIEVE_MISSES = 'memcached.retrieve.misses';
export const COUNTER_REFRESH_FAILURES = 'memcached.refresh.failures';
export const TIMING_RETRIEVE = 'memcached.retrieve';
export const TIMING_STORE = 'memcached.store';

function asContext(context: ContextLike): IContext | null {
  if (context == null) return null;
  if (typeof context === 'string') return context === '' ? null : Context.fromTraceId(context);
  return context;
}

export class CacheInstrumentation {
  logger: CacheLogger | null = null;
  counters: CacheCounters | null = null;
  private unsubscribe: (() => void) | null = null;

  setReferences(references: IReferences): void {
    this.logger = references.getOneOptional<CacheLogger>(new Descriptor('*', 'logger', '*', '*', '1.0'));
    this.counters = references.getOneOptional<CacheCounters>(
      new Descriptor('*', 'counters', '*', '*', '1.0'),
    );
  }

  opened(context: ContextLike, client: MemcachedClient): void {
    const logger = this.logger;
    if (logger === null) return;
    const ctx = asContext(context);
    logger.info(ctx, 'Connected to memcached at %s', client.servers.map((s) => s.id).join(','));
    this.unsubscribe?.();
    this.unsubscribe = client.cluster.onChange((change) => {
      if (change.type === 'eject') {
        logger.warn(
          ctx,
          'memcached server %s ejected after consecutive failures; routing over %s',
          change.id,
          change.routing.join(','),
        );
      } else {
        logger.info(
          ctx,
          'memcached server %s rejoined; routing over %s',
          change.id,
          change.routing.join(','),
        );
      }
    });
  }

  closed(context: ContextLike, wasOpen: boolean): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (wasOpen && this.logger !== null) this.logger.info(asContext(context), 'Disconnected from memcached');
  }

  /** Times `operation` under `name`; without counters it returns `operation` untouched. */
  timed<T>(name: string, operation: Promise<T>): Promise<T> {
    if (this.counters === null) return operation;
    const timing = this.counters.beginTiming(name);
    return operation.finally(() => timing.endTiming());
  }

  retrieved(hit: boolean): void {
    this.counters?.incrementOne(hit ? COUNTER_RETRIEVE_HITS : COUNTER_RETRIEVE_MISSES);
  }

  /**
   * A refresh-ahead loader failed in the background (nobody awaits it): `warn` with the key and
   * the error's message, and the counter `memcached.refresh.failures`. The value stays.
   */
  refreshFailed(context: ContextLike, key: string, error: unknown): void {
    this.counters?.incrementOne(COUNTER_REFRESH_FAILURES);
    const reason = error instanceof Error ? error.message : String(error);
    this.logger?.warn(asContext(context), 'refresh-ahead of key %s failed: %s', key, reason);
  }
}
