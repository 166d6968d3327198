/**
 * `CacheEntry`: one value held by `MemoryCache`, with its key and absolute expiration time
 * (as in pip-services4's `CacheEntry`). The value is held as a `ValueSnapshot` so every read
 * returns a fresh copy.
 */
import type { ValueSnapshot } from './jsonCopy.js';

export class CacheEntry {
  readonly #key: string;
  #value: ValueSnapshot;
  #expiration: number;

  /** `timeout` is the time to live in milliseconds, counted from now. */
  constructor(key: string, value: ValueSnapshot, timeout: number, now: number = Date.now()) {
    this.#key = key;
    this.#value = value;
    this.#expiration = now + timeout;
  }

  getKey(): string {
    return this.#key;
  }

  getValue(): ValueSnapshot {
    return this.#value;
  }

  /** Absolute expiration time, milliseconds since the epoch. */
  getExpiration(): number {
    return this.#expiration;
  }

  /** Replaces the value and restarts the time to live. */
  setValue(value: ValueSnapshot, timeout: number, now: number = Date.now()): void {
    this.#value = value;
    this.#expiration = now + timeout;
  }

  /** True once the expiration time has been reached. */
  isExpired(now: number = Date.now()): boolean {
    return this.#expiration <= now;
  }
}
