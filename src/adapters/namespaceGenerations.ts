import type { MemcachedClient } from '../client/MemcachedClient.js';

// The generation of each Keyv namespace (see KeyvMemcachedStore: keys live under
// `<namespace>@<generation>:`, and `clear()` moves to the next generation), as this process knows it.

const GENERATION_PREFIX = 'keyv-namespace:';
const DEFAULT_GENERATION_REFRESH_MS = 1000;

/** A namespace's generation as this process last read or set it. */
interface Generation {
  value: number;
  /** When (`performance.now()`, immune to clock steps) the request that read it was sent. */
  readAt: number;
  /** The order in which that request was sent: a later request's answer replaces an earlier's. */
  sequence: number;
  /** The background re-read in flight, if any. */
  refreshing: Promise<number> | null;
}

/** Per client, per namespace: every store on one client sees the other's `clear()` at once. */
const generationsByClient = new WeakMap<MemcachedClient, Map<string, Generation>>();
let generationRequests = 0;

/**
 * A store's `generationRefreshMs` (default 1,000), checked: a number ≥ 0. Checked before the store
 * builds its client, so a bad option leaves nothing open.
 */
export function refreshMsOption(value: number | undefined): number {
  const refreshMs = value ?? DEFAULT_GENERATION_REFRESH_MS;
  if (!Number.isFinite(refreshMs) || refreshMs < 0)
    throw new RangeError(`generationRefreshMs must be a number ≥ 0, got ${String(value)}`);
  return refreshMs;
}

/**
 * One store's view of its client's namespace generations: read from memcached, cached for
 * `refreshMs`, moved on by `bump`. Stores on one client share what they learn.
 */
export class NamespaceGenerations {
  private readonly generations: Map<string, Generation>;

  /** `refreshMs`: from `refreshMsOption`. */
  constructor(
    private readonly client: MemcachedClient,
    private readonly refreshMs: number,
  ) {
    const generations = generationsByClient.get(client) ?? new Map<string, Generation>();
    generationsByClient.set(client, generations);
    this.generations = generations;
  }

  /**
   * The namespace's generation: the cached one while younger than `generationRefreshMs` (a
   * background re-read starts at half that age), else read now.
   */
  current(namespace: string): number | Promise<number> {
    const cached = this.generations.get(namespace);
    if (cached === undefined) return this.read(namespace);
    const age = performance.now() - cached.readAt;
    if (age >= this.refreshMs) return cached.refreshing ?? this.read(namespace);
    if (age >= this.refreshMs / 2 && cached.refreshing === null)
      // A failed background read is not this operation's failure: the next one past the full
      // age reads again and reports.
      this.read(namespace).catch(() => {});
    return cached.value;
  }

  /** Reads the generation key (shared by concurrent callers) and caches what it says. */
  private read(namespace: string): Promise<number> {
    const sent = { at: performance.now(), sequence: ++generationRequests };
    // delta 0 reads the counter; `initial` (the wall clock, so a re-created generation is newer
    // than any before it) creates it atomically when missing.
    const reading = this.client
      .incr(GENERATION_PREFIX + namespace, 0, { initial: Date.now() })
      .then((value) => this.learn(namespace, Number(value ?? 0n), sent))
      .finally(() => {
        const cached = this.generations.get(namespace);
        if (cached?.refreshing === reading) cached.refreshing = null;
      });
    const cached = this.generations.get(namespace);
    if (cached !== undefined) cached.refreshing = reading;
    else
      this.generations.set(namespace, {
        value: Number.NaN,
        readAt: Number.NEGATIVE_INFINITY,
        sequence: 0,
        refreshing: reading,
      });
    return reading;
  }

  /**
   * Caches a generation read or set by the request `sent`, unless a request sent after it already
   * answered: a re-read sent before this process's `clear()` and answered after it must not roll
   * the cache back to the cleared generation. (Not "keep the larger": a generation re-created
   * after eviction by a process whose clock is behind may be smaller, and every process must
   * still agree on it.) Returns the generation to use.
   */
  private learn(namespace: string, value: number, sent: { at: number; sequence: number }): number {
    const cached = this.generations.get(namespace);
    if (cached === undefined) {
      this.generations.set(namespace, { value, readAt: sent.at, sequence: sent.sequence, refreshing: null });
      return value;
    }
    if (sent.sequence > cached.sequence) {
      cached.value = value;
      cached.readAt = sent.at;
      cached.sequence = sent.sequence;
    }
    return cached.value;
  }

  /** Moves `namespace` to its next generation: every key of the current one becomes unreachable. */
  async bump(namespace: string): Promise<void> {
    const sent = { at: performance.now(), sequence: ++generationRequests };
    const value = await this.client.incr(GENERATION_PREFIX + namespace, 1, { initial: Date.now() });
    this.learn(namespace, Number(value ?? 0n), sent);
  }
}
