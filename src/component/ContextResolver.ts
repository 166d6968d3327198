/**
 * `ContextResolver`: extracts values from a `ContextLike`.
 *
 * Our methods accept a plain string as context because the seed passes trace ids that way
 * (`cache.open("123")`); an `IContext` is read through its `trace_id` (or `traceId`) value.
 * The result is `null` — not `''` — when there is no trace id, matching `MemcachedCacheError.traceId`
 * (`string | null`) and pip-services4's `ContextResolver`, so "no trace id" is one value.
 */
import type { ContextLike } from './IContext.js';

// biome-ignore lint/complexity/noStaticOnlyClass: pip-services4 callers write ContextResolver.getTraceId(ctx)
export class ContextResolver {
  /** The trace id, or `null` for null/undefined/empty string/a context without one. */
  static getTraceId(context: ContextLike): string | null {
    if (context == null) return null;
    if (typeof context === 'string') return context === '' ? null : context;
    const id = context.get('trace_id') ?? context.get('traceId');
    return id == null || id === '' ? null : String(id);
  }

  static getClient(context: ContextLike): string | null {
    if (context == null || typeof context === 'string') return null;
    const client = context.get('client');
    return client == null ? null : String(client);
  }

  static getUser(context: ContextLike): any {
    if (context == null || typeof context === 'string') return null;
    return context.get('user') ?? null;
  }
}
