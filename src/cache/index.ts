/** Caches: `MemcachedCache` (distributed), `MemoryCache` (in-process), `NullCache` (none). */
export * from './CacheEntry.js';
export * from './jsonCopy.js';
export { MemcachedCache } from './MemcachedCache.js';
export * from './MemoryCache.js';
export * from './NullCache.js';
export type { CacheCounters, CacheLogger } from './CacheInstrumentation.js';
