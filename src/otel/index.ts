export {
  MemcachedCacheInstrumentation,
  type MemcachedCacheInstrumentationConfig,
} from './MemcachedCacheInstrumentation.js';
