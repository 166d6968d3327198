/** Component factories. */
export * from './DefaultMemcachedFactory.js';
export * from './Factory.js';
