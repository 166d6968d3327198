export * from './ClientOptions.js';
export * from './Item.js';
export * from './MemcachedClient.js';
export * from './MemcachedConnector.js';
export * from './diagnostics.js';
export * from './endpoints.js';
