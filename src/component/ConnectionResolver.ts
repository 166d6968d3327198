/**
 * `ConnectionResolver`: turns a component's `connection.*` / `connections.N.*` config into
 * concrete `ConnectionParams`, following `discovery_key`s through every `*:discovery:*:*:1.0`
 * reference (`IDiscovery`).
 *
 * Differences from pip-services4, on purpose: a `discovery_key` with no discovery reference, or
 * one no discovery service knows, is a `ConfigError` naming the key — pip-services returns fewer
 * connections (or throws a ReferenceException) and the cache would then fail later with a vaguer
 * "no servers" error.
 */
import { ConfigParams } from './ConfigParams.js';
import { ConnectionParams } from './ConnectionParams.js';
import { ContextResolver } from './ContextResolver.js';
import { Descriptor } from './Descriptor.js';
import { ConfigError } from './errors.js';
import type { ContextLike } from './IContext.js';
import type { IReferences } from './IReferences.js';
import type { IConfigurable, IDiscovery, IReferenceable } from './interfaces.js';

/** The locator of discovery services. */
export const DISCOVERY_DESCRIPTOR = new Descriptor('*', 'discovery', '*', '*', '1.0');

export class ConnectionResolver implements IConfigurable, IReferenceable {
  readonly #connections: ConnectionParams[] = [];
  #references: IReferences | null = null;

  constructor(config?: ConfigParams | null, references?: IReferences | null) {
    if (config != null) this.configure(config);
    if (references != null) this.setReferences(references);
  }

  /** Adds the connections found in `config` (does not replace earlier ones, as in pip-services4). */
  configure(config: ConfigParams): void {
    this.#connections.push(...ConnectionParams.manyFromConfig(config));
  }

  setReferences(references: IReferences): void {
    this.#references = references;
  }

  /** Configured connections, discovery keys not resolved. */
  getAll(): ConnectionParams[] {
    return [...this.#connections];
  }

  add(connection: ConnectionParams): void {
    this.#connections.push(connection);
  }

  /**
   * Every connection: configured ones as they are, discovery ones replaced by everything the
   * discovery services return for their key (each merged over the original, so settings like
   * `protocol` given next to `discovery_key` are kept unless discovery overrides them).
   */
  async resolveAll(context: ContextLike): Promise<ConnectionParams[]> {
    const resolved: ConnectionParams[] = [];
    for (const connection of this.#connections) {
      if (connection.useDiscovery()) resolved.push(...(await this.#resolveInDiscovery(context, connection)));
      else resolved.push(connection);
    }
    return resolved;
  }

  /** The first configured connection that needs no discovery, else the first one discovery resolves. */
  async resolveOne(context: ContextLike): Promise<ConnectionParams | null> {
    const direct = this.#connections.find((c) => !c.useDiscovery());
    if (direct) return direct;
    for (const connection of this.#connections) {
      const found = await this.#resolveInDiscovery(context, connection);
      if (found.length > 0) return found[0]!;
    }
    return null;
  }

  /** Registers `connection` under its `discovery_key` in every discovery service; false if none. */
  async register(context: ContextLike, connection: ConnectionParams): Promise<boolean> {
    if (!connection.useDiscovery()) return false;
    const discoveries = this.#references?.getOptional<IDiscovery>(DISCOVERY_DESCRIPTOR) ?? [];
    if (discoveries.length === 0) return false;
    for (const discovery of discoveries)
      await discovery.register(context, connection.getDiscoveryKey()!, connection);
    this.#connections.push(connection);
    return true;
  }

  async #resolveInDiscovery(context: ContextLike, connection: ConnectionParams): Promise<ConnectionParams[]> {
    const key = connection.getDiscoveryKey()!;
    const configKey = `${connection.configPath ?? 'connection'}.discovery_key`;
    const traceId = ContextResolver.getTraceId(context);
    const discoveries = this.#references?.getOptional<IDiscovery>(DISCOVERY_DESCRIPTOR) ?? [];
    if (discoveries.length === 0) {
      throw new ConfigError(
        `config key '${configKey}' is '${key}' but no discovery service (${DISCOVERY_DESCRIPTOR}) is referenced`,
        { traceId, details: { configKey, discoveryKey: key } },
      );
    }
    const resolved: ConnectionParams[] = [];
    for (const discovery of discoveries) {
      for (const found of await discovery.resolveAll(context, key)) {
        const merged = new ConnectionParams(ConfigParams.mergeConfigs(connection, found));
        merged.configPath = connection.configPath;
        resolved.push(merged);
      }
    }
    if (resolved.length === 0) {
      throw new ConfigError(`config key '${configKey}' is '${key}' but no discovery service knows that key`, {
        traceId,
        details: { configKey, discoveryKey: key },
      });
    }
    return resolved;
  }
}
