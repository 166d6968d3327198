/**
 * `Lock`: the abstract base of every lock, as pip-services4's `Lock`. Subclasses implement one
 * attempt (`tryAcquireLock`) and `releaseLock`; this class implements the waiting `acquireLock`.
 *
 * ### Configuration parameters
 * - `options.retry_timeout` — milliseconds between acquisition attempts (default: 100). A plain
 *   `retry_timeout` key is accepted too; `options.retry_timeout` wins when both are set.
 *
 * `acquireLock(context, key, ttl, timeout)` tries at once, then every `retry_timeout` ms, and makes
 * a last attempt at the deadline (pip-services gives up after the first sleep that passes it);
 * when `timeout` ms have passed without success it rejects with `LockTimeoutError`
 * (code `LOCK_TIMEOUT`) carrying the key and the trace id.
 */

import { checkComponentKey } from '../component/ComponentKey.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { readInteger } from '../component/ConfigReaders.js';
import { ContextResolver } from '../component/ContextResolver.js';
import { InvalidValueError, LockTimeoutError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IConfigurable, ILock } from '../component/interfaces.js';
import { COMPONENT_OPTIONS, readOption } from '../connector/ComponentOptions.js';

export abstract class Lock implements ILock, IConfigurable {
  static readonly DEFAULT_RETRY_TIMEOUT = COMPONENT_OPTIONS.retry_timeout.default;

  #retryTimeout = Lock.DEFAULT_RETRY_TIMEOUT;

  configure(config: ConfigParams): void {
    this.#retryTimeout = readRetryTimeout(config, this.#retryTimeout);
  }

  /** Milliseconds between acquisition attempts in `acquireLock`. */
  getRetryTimeout(): number {
    return this.#retryTimeout;
  }

  /** One attempt: `true` when the lock was acquired for `ttl` ms, `false` when another holds it. */
  abstract tryAcquireLock(context: ContextLike, key: string, ttl: number): Promise<boolean>;

  /** Releases the lock `key` (a lock that is not held is not an error). */
  abstract releaseLock(context: ContextLike, key: string): Promise<void>;

  /**
   * Attempts to acquire the lock until it succeeds or `timeout` ms have passed, then rejects with
   * `LockTimeoutError`. `timeout` ≤ 0 means a single attempt.
   */
  acquireLock(context: ContextLike, key: string, ttl: number, timeout: number): Promise<void> {
    return acquireWithRetries(this, context, key, ttl, timeout, this.#retryTimeout);
  }

  /** Throws `InvalidKeyError` unless `key` is a non-empty string (`checkComponentKey`). For subclasses. */
  protected validateKey(context: ContextLike, key: unknown): asserts key is string {
    checkComponentKey(context, key);
  }
}

/** `options.retry_timeout` (COMPONENT_OPTIONS), or the plain `retry_timeout` key, or `current`. */
export function readRetryTimeout(config: ConfigParams, current: number): number {
  const { min, max } = COMPONENT_OPTIONS.retry_timeout;
  return readOption(config, 'retry_timeout', readInteger(config, 'retry_timeout', current, { min, max }));
}

/**
 * The waiting acquisition of every lock (Lock subclasses and MemcachedLock): tries at once, then
 * every `retryTimeoutMs`, with a last attempt at the deadline; rejects with LockTimeoutError.
 * An attempt that rejects with an error `keepTrying` accepts counts as "not acquired" (and is the
 * LockTimeoutError's `cause` if no later attempt succeeds); any other error rejects at once.
 */
export async function acquireWithRetries(
  lock: Pick<ILock, 'tryAcquireLock'>,
  context: ContextLike,
  key: string,
  ttl: number,
  timeout: number,
  retryTimeoutMs: number,
  keepTrying: (error: unknown) => boolean = () => false,
): Promise<void> {
  const traceId = ContextResolver.getTraceId(context);
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new InvalidValueError(`lock acquisition timeout for key '${key}' must be a number`, {
      traceId,
      key,
    });
  }
  const deadline = Date.now() + Math.max(0, timeout);
  let lastFailure: unknown;
  // The attempt after the wait that ends at the deadline is the last one, whatever the clock says
  // then: a timer may fire a millisecond before Date.now() reaches the deadline, which made one
  // more 1 ms wait and a seventh attempt where six were due.
  let lastAttempt = false;
  for (;;) {
    try {
      if (await lock.tryAcquireLock(context, key, ttl)) return;
      lastFailure = undefined;
    } catch (error) {
      if (!keepTrying(error)) throw error;
      lastFailure = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || lastAttempt) {
      throw new LockTimeoutError(`acquiring lock '${key}' failed on timeout after ${timeout} ms`, {
        traceId,
        key,
        details: { timeout },
        ...(lastFailure === undefined ? {} : { cause: lastFailure }),
      });
    }
    if (remaining <= retryTimeoutMs) lastAttempt = true;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(retryTimeoutMs, remaining)));
  }
}
