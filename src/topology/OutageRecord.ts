import type { EncodedKey, WireKey } from '../protocol/KeyEncoder.js';

/**
 * What must be undone on a server before it takes traffic again: the keys whose copy on it may be
 * older than what this client wrote or removed while it was out, or — when there were more than
 * the record holds — everything (`flush`).
 */
export interface OutageWork {
  readonly keys: readonly EncodedKey[];
  readonly flush: boolean;
}

interface ServerRecord {
  /**
   * Wire token → key. Not the EncodedKey itself: routing cached the key's bytes on it (a Buffer,
   * ~100 bytes more per key), and for a printable key the token and the key are one string.
   */
  keys: Map<WireKey, string>;
  overflowed: boolean;
}

/**
 * The keys this client changed (wrote, removed, touched, incremented, invalidated) while their
 * home server was ejected, per ejected server. Client-side hashing with ejection sends those
 * changes to a substitute; the home server keeps its old copies and would serve them again once
 * it is back in the ring. Deleting the recorded keys on it before it rejoins closes that.
 *
 * Bounded: each server's record holds at most `limit` keys. One more and the record overflows:
 * its keys are dropped (the memory is freed) and the server's whole content is to be distrusted
 * (`take` answers `flush`). Pure: no sockets, no timers.
 */
export class OutageRecord {
  private readonly records = new Map<string, ServerRecord>();

  constructor(readonly limit: number) {}

  /** `id` was ejected: from now on its keys' changes are recorded. */
  begin(id: string): void {
    if (!this.records.has(id)) this.records.set(id, { keys: new Map(), overflowed: false });
  }

  /** `id` is back in the ring, or left the server list: its record is over. */
  end(id: string): void {
    this.records.delete(id);
  }

  /** Whether `id` is being recorded for (it is ejected). */
  has(id: string): boolean {
    return this.records.has(id);
  }

  /** This client changed `key`, whose home `id` is out. */
  record(id: string, key: EncodedKey): void {
    const record = this.records.get(id);
    if (record === undefined || record.overflowed) return;
    const keys = record.keys;
    if (keys.has(key.token)) return;
    if (keys.size >= this.limit) {
      record.overflowed = true;
      record.keys = new Map();
      return;
    }
    keys.set(key.token, key.key);
  }

  /**
   * Takes what is to be undone on `id` now (null when nothing): the record starts afresh, so keys
   * changed while that work runs are recorded for the next round. Give it back with `restore`
   * when the work failed.
   */
  take(id: string): OutageWork | null {
    const record = this.records.get(id);
    if (record === undefined || (!record.overflowed && record.keys.size === 0)) return null;
    const keys: EncodedKey[] = [];
    for (const [token, key] of record.keys) keys.push({ token, bytes: null, key });
    const work: OutageWork = { keys, flush: record.overflowed };
    record.keys = new Map();
    record.overflowed = false;
    return work;
  }

  /** The work taken from `id` did not complete: it is to be done again (with what came since). */
  restore(id: string, work: OutageWork): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    if (work.flush) {
      record.overflowed = true;
      record.keys = new Map();
      return;
    }
    for (const key of work.keys) this.record(id, key);
  }

  /** Keys recorded for `id` so far (0 after an overflow). */
  size(id: string): number {
    return this.records.get(id)?.keys.size ?? 0;
  }

  /** Whether `id`'s record overflowed (its content will be flushed before it rejoins). */
  overflowed(id: string): boolean {
    return this.records.get(id)?.overflowed ?? false;
  }
}
