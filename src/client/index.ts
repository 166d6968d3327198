export * from './ClientOptions.js';
export * from './Item.js';
export * from './MemcachedClient.js';
export * from './MemcachedConnector.js';
