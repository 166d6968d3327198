/**
 * A small in-process LRU in front of memcached (`options.near_cache_ttl` > 0). It keeps the
 * encoded bytes, not decoded objects, and copies them in (`set`) and, where a decoded value
 * shares their memory, out (`detached`): a Buffer the caller stored, or one a read returned
 * (bytes values decode to the very Buffer they are given), can be changed without changing what
 * the next read returns — as with memcached, which holds its own copy. JSON values decode to new
 * objects and are not copied again.
 * Bounded by `max_size` entries — the seed option memcached itself has no use for.
 *
 * Replies race local writes: a read sent before a `remove()` may land after it, with the value
 * the remove deleted. So every local write (store, remove, invalidate, getOrStore's load) marks
 * the key written when it starts and again when its reply lands (`written`), stamped from one
 * counter; a read or store takes the counter's value when it starts (`stamp`) and may fill the
 * entry only if the key was not written since (`setIfUnwritten`, `writeLanded`). A reply older than any local
 * write of its key is never kept.
 */
export class NearCache {
  private readonly entries = new Map<string, { data: Buffer; flags: number; expiresAt: number }>();
  /** Counts local write events; a stamp is its value when an operation started. */
  private clock = 0;
  /**
   * The stamp of each recently written key, oldest first (a write moves its key to the end).
   * Bounded: forgetting the oldest raises `forgotten` to its stamp, and a key not listed counts
   * as written then — a few reads fail to fill the near cache, none fills it with an old value.
   */
  private readonly writes = new Map<string, number>();
  private forgotten = 0;

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

  /** The stamp an operation takes when it starts, to pass to `setIfUnwritten` when its reply lands. */
  stamp(): number {
    return this.clock;
  }

  /** A local write of `key` starts or has landed: drops its entry and outdates replies in flight. */
  written(key: string): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.writes.delete(key);
    this.writes.set(key, ++this.clock);
    if (this.writes.size > WRITE_LOG_SIZE) {
      const [oldest, stamp] = this.writes.entries().next().value as [string, number];
      this.writes.delete(oldest);
      this.forgotten = stamp;
    }
  }

  /** Keeps the bytes a read that started at `stamp` got for `key`, unless the key was written since. */
  setIfUnwritten(key: string, stamp: number, data: Buffer, flags: number, ttlMs: number): void {
    if (this.enabled && this.writtenAt(key) <= stamp) this.put(key, data, flags, ttlMs);
  }

  /**
   * A write of `key` that started at `stamp` (after its `written`) landed: it outdates the
   * replies in flight, and its own bytes are kept unless another write of the key started since
   * (which of the two memcached applied last is unknown here, so neither is trusted).
   */
  writeLanded(key: string, stamp: number, data: Buffer, flags: number, ttlMs: number): void {
    if (!this.enabled) return;
    const unrivalled = this.writtenAt(key) <= stamp;
    this.written(key);
    if (unrivalled) this.put(key, data, flags, ttlMs);
  }

  private writtenAt(key: string): number {
    return this.writes.get(key) ?? this.forgotten;
  }

  private put(key: string, data: Buffer, flags: number, ttlMs: number): void {
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

  clear(): void {
    this.entries.clear();
  }

  /** `value` decoded from an entry's `data`; a copy when it shares that memory, so the entry stays ours. */
  static detached<T>(value: T, data: Buffer): T {
    if (value instanceof Uint8Array && value.buffer === data.buffer) return Buffer.from(value) as T;
    return value;
  }
}

/**
 * How many written keys the near cache remembers. Only reads in flight across this many writes
 * of other keys lose their fill (see `writes`); 4,096 entries cost well under a megabyte.
 */
const WRITE_LOG_SIZE = 4096;
