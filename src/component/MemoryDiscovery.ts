/**
 * `MemoryDiscovery`: an `IDiscovery` holding connections in memory — for tests and for wiring
 * connection settings by name. Config has one section per discovery key:
 * `key1.host=10.0.0.1;key1.port=11211;key2.uri=memcached://b:11211`.
 *
 * pip-services4-node's `configure` is a no-op (only the constructor reads config); ours calls
 * `readConnections`, which is what a container calling `configure` expects.
 */
import type { ConfigParams } from './ConfigParams.js';
import { ConnectionParams } from './ConnectionParams.js';
import type { ContextLike } from './IContext.js';
import type { IDiscovery, IReconfigurable } from './interfaces.js';

export class MemoryDiscovery implements IDiscovery, IReconfigurable {
  readonly #items = new Map<string, ConnectionParams[]>();

  constructor(config?: ConfigParams | null) {
    if (config != null) this.readConnections(config);
  }

  configure(config: ConfigParams): void {
    this.readConnections(config);
  }

  /** Replaces all entries: each first-level section becomes the connection of that key. */
  readConnections(config: ConfigParams): void {
    this.#items.clear();
    for (const key of config.getSectionNames()) {
      const params = new ConnectionParams(config.getSection(key));
      this.#items.set(key, [params]);
    }
  }

  /** Adds a connection under `key` (several per key are allowed: `resolveAll` returns them all). */
  async register(
    _context: ContextLike,
    key: string,
    connection: ConnectionParams,
  ): Promise<ConnectionParams> {
    const list = this.#items.get(key) ?? [];
    list.push(new ConnectionParams(connection));
    this.#items.set(key, list);
    return connection;
  }

  async resolveOne(_context: ContextLike, key: string): Promise<ConnectionParams | null> {
    const first = this.#items.get(key)?.[0];
    return first ? first.clone() : null;
  }

  async resolveAll(_context: ContextLike, key: string): Promise<ConnectionParams[]> {
    return (this.#items.get(key) ?? []).map((c) => c.clone());
  }
}
