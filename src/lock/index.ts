/** Locks: `MemcachedLock` (distributed), `MemoryLock` (in-process), `NullLock` (none), `Lock` base. */
export * from './Lock.js';
export { MemcachedLock } from './MemcachedLock.js';
export * from './MemoryLock.js';
export * from './NullLock.js';
