/**
 * `NullLock`: a lock that locks nothing, as pip-services4's `NullLock` — for configurations where
 * locking is switched off. Every acquisition succeeds at once; release does nothing.
 */
import type { ContextLike } from '../component/IContext.js';
import type { ILock } from '../component/interfaces.js';

export class NullLock implements ILock {
  async tryAcquireLock(_context: ContextLike, _key: string, _ttl: number): Promise<boolean> {
    return true;
  }

  async acquireLock(_context: ContextLike, _key: string, _ttl: number, _timeout: number): Promise<void> {}

  async releaseLock(_context: ContextLike, _key: string): Promise<void> {}
}
