export * from './memcached.js';
export * from './rawClient.js';
