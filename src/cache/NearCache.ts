/**
 * A small in-process LRU in front of memcached (`options.near_cache_ttl` > 0). It keeps the
 * encoded bytes, not decoded objects, so a caller mutating a result cannot change what the next
 * caller reads. Bounded by `max_size` entries — the seed option memcached itself has no use for.
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

  get size(): number {
    return this.entries.size;
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
    this.entries.set(key, { data, flags, expiresAt: Date.now() + Math.min(this.ttlMs, ttlMs) });
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
}
