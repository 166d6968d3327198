/**
 * `MemoryLock`: a lock in the process memory, as pip-services4's `MemoryLock`. Not suitable for
 * synchronising distributed processes — use `MemcachedLock` for that.
 *
 * ### Configuration parameters
 * - `options.retry_timeout` — milliseconds between attempts in `acquireLock` (default: 100)
 *
 * ### Owners (stricter than pip-services)
 * pip-services4's `MemoryLock.releaseLock` deletes the lock whoever calls it. Ours releases only a
 * lock this instance holds: each instance has a unique `ownerId`, recorded when it acquires, and a
 * release by any other instance leaves the lock held (and resolves — it is not an error). This is
 * what `MemcachedLock` must do — a process whose lock expired and was taken by another must not
 * free the new holder's lock — and the two must be interchangeable, so the in-memory one behaves
 * the same and the shared `LockFixture` can test both.
 *
 * ### Shared store
 * pip-services4 keeps the locks in a map of each instance, so two `MemoryLock`s never see each
 * other's locks. That stays the default, but owners can only be told apart when instances share
 * one table: pass the same `MemoryLockStore` to several instances (each still its own owner) to
 * make them contend as separate processes would on one memcached.
 *
 * Locks are not re-entrant: `tryAcquireLock` on a key this instance already holds returns `false`.
 */
import { randomUUID } from 'node:crypto';
import { ContextResolver } from '../component/ContextResolver.js';
import { InvalidValueError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import { Lock } from './Lock.js';

interface HeldLock {
  readonly owner: string;
  readonly expiresAt: number;
}

/** The lock table `MemoryLock`s contend on. Share one instance to make them see each other. */
export class MemoryLockStore {
  readonly #locks = new Map<string, HeldLock>();

  /** Records `owner` as the holder of `key` until `now + ttl` unless another live holder exists. */
  tryAcquire(key: string, owner: string, ttl: number, now: number = Date.now()): boolean {
    const held = this.#locks.get(key);
    if (held !== undefined && held.expiresAt > now) return false;
    this.#locks.set(key, { owner, expiresAt: now + ttl });
    return true;
  }

  /** Removes `key` if `owner` holds it (expired or not); `true` when something was removed. */
  release(key: string, owner: string): boolean {
    const held = this.#locks.get(key);
    if (held === undefined || held.owner !== owner) return false;
    this.#locks.delete(key);
    return true;
  }

  /** The live holder of `key`, or `null`. */
  ownerOf(key: string, now: number = Date.now()): string | null {
    const held = this.#locks.get(key);
    if (held === undefined) return null;
    if (held.expiresAt <= now) {
      this.#locks.delete(key);
      return null;
    }
    return held.owner;
  }

  /** Number of entries, expired ones not yet dropped included. */
  size(): number {
    return this.#locks.size;
  }

  clear(): void {
    this.#locks.clear();
  }
}

export class MemoryLock extends Lock {
  /** Identifies this instance as a lock holder. */
  readonly ownerId: string = randomUUID();
  readonly #store: MemoryLockStore;

  /** Without `store`, the instance has its own table (pip-services semantics). */
  constructor(store?: MemoryLockStore) {
    super();
    this.#store = store ?? new MemoryLockStore();
  }

  /** The lock table this instance uses. */
  getStore(): MemoryLockStore {
    return this.#store;
  }

  /** `ttl` must be a positive number of milliseconds. */
  async tryAcquireLock(context: ContextLike, key: string, ttl: number): Promise<boolean> {
    this.validateKey(context, key);
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
      throw new InvalidValueError(`lock ttl for key '${key}' must be a positive number of milliseconds`, {
        traceId: ContextResolver.getTraceId(context),
        key,
      });
    }
    return this.#store.tryAcquire(key, this.ownerId, ttl);
  }

  /** Releases `key` if this instance holds it; otherwise does nothing. */
  async releaseLock(context: ContextLike, key: string): Promise<void> {
    this.validateKey(context, key);
    this.#store.release(key, this.ownerId);
  }
}
