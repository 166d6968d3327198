export * from './configEndpoint.js';
export * from './memcached.js';
export * from './rawClient.js';
