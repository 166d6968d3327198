/** Caches: `MemcachedCache` (distributed), `MemoryCache` (in-process), `NullCache` (none). */
export * from './CacheEntry.js';
export type { CacheCounters, CacheLogger } from './CacheInstrumentation.js';
export * from './jsonCopy.js';
export { MemcachedCache } from './MemcachedCache.js';
export * from './MemoryCache.js';
export * from './NullCache.js';
