/**
 * A small in-process LRU in front of memcached (`options.near_cache_ttl` > 0). It keeps the
 * encoded bytes, not decoded objects, and copies them in (`set`) and, where a decoded value
 * shares their memory, out (`detached`): a Buffer the caller stored, or one a read returned
 * (bytes values decode to the very Buffer they are given), can be changed without changing what
 * the next read returns — as with memcached, which holds its own copy. JSON values decode to new
 * objects and are not copied again.
 * Bounded by `max_size` entries — the seed option memcached itself has no use for.
 */
export class NearCache {
  private readonly entries = new Map<string, { data: Buffer; flags: number; expiresAt: number }>();

  constructor(
    private readonly maxSize: number,
    private readonly ttlMs: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxSize > 0;
  }

  get(key: string): { data: Buffer; flags: number } | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= Date.now()) return undefined;
    this.entries.set(key, entry); // most recently used goes last
    return entry;
  }

  set(key: string, data: Buffer, flags: number, ttlMs: number): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, {
      data: Buffer.from(data),
      flags,
      expiresAt: Date.now() + Math.min(this.ttlMs, ttlMs),
    });
    while (this.entries.size > this.maxSize) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** `value` decoded from an entry's `data`; a copy when it shares that memory, so the entry stays ours. */
  static detached<T>(value: T, data: Buffer): T {
    if (value instanceof Uint8Array && value.buffer === data.buffer) return Buffer.from(value) as T;
    return value;
  }
}
