import { ContextResolver } from './ContextResolver.js';
import { InvalidKeyError, MemcachedCacheError } from './errors.js';
import type { ContextLike } from './IContext.js';

/**
 * The one key check of every component (caches and locks, distributed or in-memory): a key is a
 * non-empty string. Throws `InvalidKeyError` naming what was given (its type, never its value)
 * with the call's trace id. Length and encoding limits are the client's (`max_key_size`).
 */
export function checkComponentKey(context: ContextLike, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    const what = typeof key === 'string' ? 'an empty string' : key === null ? 'null' : typeof key;
    throw new InvalidKeyError(`key must be a non-empty string, got ${what}`, {
      traceId: ContextResolver.getTraceId(context),
    });
  }
}

/** Attaches the caller's trace id to an error leaving a component (if it is ours and has none). */
export function withTrace(error: unknown, context: ContextLike): unknown {
  if (error instanceof MemcachedCacheError) error.withTraceId(ContextResolver.getTraceId(context));
  return error;
}
