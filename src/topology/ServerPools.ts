import type { Pool } from '../transport/Pool.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';

/**
 * The connection pools of the servers in the list, by id, and of removed servers still
 * answering what was written to them (draining). Membership changes go through `replace`.
 */
export class ServerPools {
  private readonly pools = new Map<string, Pool>();
  private readonly draining = new Set<Pool>();
  /** The pool when the list has exactly one server: routing then skips hashing. */
  single: Pool | null = null;

  constructor(
    private readonly makePool: (endpoint: ServerEndpoint) => Pool,
    servers: readonly ServerEndpoint[],
  ) {
    for (const endpoint of servers) this.pools.set(endpoint.id, makePool(endpoint));
    this.single = servers.length === 1 ? this.pools.get(servers[0]!.id)! : null;
  }

  get(id: string): Pool | undefined {
    return this.pools.get(id);
  }

  has(id: string): boolean {
    return this.pools.has(id);
  }

  ids(): string[] {
    return [...this.pools.keys()];
  }

  /** Open connections by server id (draining servers not included). */
  counts(): Map<string, number> {
    return new Map([...this.pools].map(([id, pool]) => [id, pool.size]));
  }

  /**
   * Makes `next` the list: pools for the servers that join (not yet connected), the others kept;
   * the pools of servers that left are taken out and returned, for `drain`.
   */
  replace(next: readonly ServerEndpoint[]): { added: ServerEndpoint[]; removed: string[]; leaving: Pool[] } {
    const ids = new Set(next.map((e) => e.id));
    const added = next.filter((e) => !this.pools.has(e.id));
    const removed = this.ids().filter((id) => !ids.has(id));
    for (const endpoint of added) this.pools.set(endpoint.id, this.makePool(endpoint));
    const leaving = removed.map((id) => this.pools.get(id)!);
    for (const id of removed) this.pools.delete(id);
    this.single = next.length === 1 ? this.pools.get(next[0]!.id)! : null;
    return { added, removed, leaving };
  }

  /** Lets each leaving pool answer what was written to it, then close; resolves when all have. */
  async drain(leaving: readonly Pool[]): Promise<void> {
    await Promise.all(
      leaving.map((pool) => {
        this.draining.add(pool);
        return pool.drain().finally(() => this.draining.delete(pool));
      }),
    );
  }

  /**
   * Connects every pool. Resolves as soon as one answers (with the ids that answered by then);
   * rejects with the first error only when every one failed.
   */
  connectAll(): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      const answered: string[] = [];
      let failed = 0;
      let firstError: unknown;
      const ids = this.ids();
      for (const id of ids) {
        this.pools
          .get(id)!
          .connect()
          .then(
            () => {
              answered.push(id);
              if (answered.length === 1) queueMicrotask(() => resolve(answered.slice()));
            },
            (error: unknown) => {
              firstError ??= error;
              failed++;
              if (failed === ids.length) reject(firstError);
            },
          );
      }
    });
  }

  /** Closes every pool, draining ones included. */
  close(): void {
    for (const pool of this.pools.values()) pool.close();
    for (const pool of this.draining) pool.close();
  }
}
