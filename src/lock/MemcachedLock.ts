import { randomUUID } from 'node:crypto';
import type { MemcachedClient } from '../client/MemcachedClient.js';
import { MemcachedConnector } from '../client/MemcachedConnector.js';
import { ConfigParams } from '../component/ConfigParams.js';
import { readString } from '../component/ConfigReaders.js';
import { ContextResolver } from '../component/ContextResolver.js';
import { InvalidStateError, InvalidValueError, MemcachedCacheError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import type { IOpenable, IReferenceable } from '../component/interfaces.js';
import { secondsForMs } from '../protocol/TtlEncoder.js';
import { Lock } from './Lock.js';

/**
 * A distributed lock on memcached, shaped like pip-services4's MemcachedLock. A lock is a key
 * created with `add` (atomic: exactly one caller succeeds) holding this instance's owner token,
 * with a TTL so a crashed owner cannot hold it forever. Unlike the seed, `releaseLock` deletes
 * the key only while it still holds this owner's token (compare-and-delete by CAS), so a
 * non-owner — or an owner whose lock expired and was taken by another — cannot free it.
 */
export class MemcachedLock extends Lock implements IReferenceable, IOpenable {
  /** Unique per instance: two instances are two owners, even in one process. */
  readonly ownerId = randomUUID();
  private readonly connector = new MemcachedConnector();
  private client: MemcachedClient | null = null;
  private keyPrefix = '';

  constructor() {
    super();
    this.configure(new ConfigParams());
  }

  override configure(config: ConfigParams): void {
    super.configure(config);
    this.connector.configure(config);
    this.keyPrefix = readString(config, 'options.key_prefix', '');
  }

  setReferences(references: IReferences): void {
    this.connector.setReferences(references);
  }

  isOpen(): boolean {
    return this.client !== null;
  }

  async open(context: ContextLike): Promise<void> {
    if (this.client !== null) return;
    this.client = await this.connector.open(context);
  }

  async close(_context: ContextLike): Promise<void> {
    this.client?.close();
    this.client = null;
  }

  /** One attempt; true when this instance now holds `key` for `ttl` ms. */
  async tryAcquireLock(context: ContextLike, key: string, ttl: number): Promise<boolean> {
    return this.traced(context, key, (client, fullKey) =>
      client.add(fullKey, this.ownerId, { ttl: ttlSeconds(ttl, key) }),
    );
  }

  /** Frees `key` if this instance holds it; otherwise leaves it alone. */
  async releaseLock(context: ContextLike, key: string): Promise<void> {
    await this.traced(context, key, async (client, fullKey) => {
      const item = await client.get(fullKey);
      if (item === null || item.value.toString('utf8') !== this.ownerId) return;
      // CAS: if the lock expired and another owner took it since the read, this delete fails.
      await client.delete(fullKey, { cas: item.cas });
    });
  }

  private async traced<T>(
    context: ContextLike,
    key: string,
    call: (client: MemcachedClient, fullKey: string) => Promise<T>,
  ): Promise<T> {
    const traceId = ContextResolver.getTraceId(context);
    try {
      this.validateKey(context, key);
      if (this.client === null) throw new InvalidStateError('MemcachedLock is not open: call open() first');
      return await call(this.client, this.keyPrefix + key);
    } catch (error) {
      if (error instanceof MemcachedCacheError) error.withTraceId(traceId);
      throw error;
    }
  }
}

/** Lock TTL in whole seconds (`secondsForMs`): a lock must never expire earlier than asked. */
function ttlSeconds(ttlMs: number, key: string): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new InvalidValueError('lock ttl must be a positive number of milliseconds', { key });
  }
  return secondsForMs(ttlMs);
}
