/**
 * memcached-cache: a pip-services4-style MemcachedCache component and the fast meta-protocol
 * memcached client under it.
 */
export * from './build/index.js';
export * from './cache/index.js';
export * from './client/index.js';
export * from './cluster/index.js';
export * from './component/index.js';
export * from './lock/index.js';
export type { ServerEndpoint as TransportEndpoint } from './transport/ServerEndpoint.js';
