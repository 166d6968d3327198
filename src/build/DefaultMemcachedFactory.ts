/**
 * `DefaultMemcachedFactory`: creates this package's components by descriptor, as
 * pip-services4-memcached's factory — plus the in-memory and null caches and locks, so one factory
 * serves configurations that switch between memcached, memory and nothing.
 *
 * | descriptor | component |
 * |---|---|
 * | `pip-services:cache:memcached:*:1.0` | `MemcachedCache` |
 * | `pip-services:lock:memcached:*:1.0` | `MemcachedLock` |
 * | `pip-services:cache:memory:*:1.0` | `MemoryCache` |
 * | `pip-services:cache:null:*:1.0` | `NullCache` |
 * | `pip-services:lock:memory:*:1.0` | `MemoryLock` |
 * | `pip-services:lock:null:*:1.0` | `NullLock` |
 */
import { MemcachedCache } from '../cache/MemcachedCache.js';
import { MemoryCache } from '../cache/MemoryCache.js';
import { NullCache } from '../cache/NullCache.js';
import { Descriptor } from '../component/Descriptor.js';
import { MemcachedLock } from '../lock/MemcachedLock.js';
import { MemoryLock } from '../lock/MemoryLock.js';
import { NullLock } from '../lock/NullLock.js';
import { Factory } from './Factory.js';

export class DefaultMemcachedFactory extends Factory {
  static readonly MemcachedCacheDescriptor = new Descriptor('pip-services', 'cache', 'memcached', '*', '1.0');
  static readonly MemcachedLockDescriptor = new Descriptor('pip-services', 'lock', 'memcached', '*', '1.0');
  static readonly MemoryCacheDescriptor = new Descriptor('pip-services', 'cache', 'memory', '*', '1.0');
  static readonly NullCacheDescriptor = new Descriptor('pip-services', 'cache', 'null', '*', '1.0');
  static readonly MemoryLockDescriptor = new Descriptor('pip-services', 'lock', 'memory', '*', '1.0');
  static readonly NullLockDescriptor = new Descriptor('pip-services', 'lock', 'null', '*', '1.0');

  constructor() {
    super();
    this.registerAsType(DefaultMemcachedFactory.MemcachedCacheDescriptor, MemcachedCache);
    this.registerAsType(DefaultMemcachedFactory.MemcachedLockDescriptor, MemcachedLock);
    this.registerAsType(DefaultMemcachedFactory.MemoryCacheDescriptor, MemoryCache);
    this.registerAsType(DefaultMemcachedFactory.NullCacheDescriptor, NullCache);
    this.registerAsType(DefaultMemcachedFactory.MemoryLockDescriptor, MemoryLock);
    this.registerAsType(DefaultMemcachedFactory.NullLockDescriptor, NullLock);
  }
}
