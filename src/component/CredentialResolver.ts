/**
 * `CredentialResolver`: reads `credential.*` / `credentials.N.*` and follows `store_key`s through
 * every `*:credential-store:*:*:1.0` reference (`ICredentialStore.lookup(context, key)`).
 *
 * As with connections, a `store_key` with no credential store, or one no store knows, is a
 * `ConfigError` naming the key (pip-services returns null, which would surface later as an
 * authentication failure that hides the real cause). The store's result is merged over the
 * configured entry, so e.g. `ssl_ca_file` set next to `store_key` is kept.
 */
import { ConfigParams } from './ConfigParams.js';
import { ContextResolver } from './ContextResolver.js';
import { CredentialParams } from './CredentialParams.js';
import { Descriptor } from './Descriptor.js';
import { ConfigError } from './errors.js';
import type { ContextLike } from './IContext.js';
import type { IReferences } from './IReferences.js';
import type { IConfigurable, ICredentialStore, IReferenceable } from './interfaces.js';

/** The locator of credential stores. */
export const CREDENTIAL_STORE_DESCRIPTOR = new Descriptor('*', 'credential-store', '*', '*', '1.0');

export class CredentialResolver implements IConfigurable, IReferenceable {
  readonly #credentials: CredentialParams[] = [];
  #references: IReferences | null = null;

  constructor(config?: ConfigParams | null, references?: IReferences | null) {
    if (config != null) this.configure(config);
    if (references != null) this.setReferences(references);
  }

  configure(config: ConfigParams): void {
    this.#credentials.push(...CredentialParams.manyFromConfig(config));
  }

  setReferences(references: IReferences): void {
    this.#references = references;
  }

  getAll(): CredentialParams[] {
    return [...this.#credentials];
  }

  add(credential: CredentialParams): void {
    this.#credentials.push(credential);
  }

  /**
   * The credential to use: the first configured one without `store_key`, else the first
   * `store_key` one looked up in the stores. `null` when no credential is configured at all.
   */
  async lookup(context: ContextLike): Promise<CredentialParams | null> {
    const direct = this.#credentials.find((c) => !c.useCredentialStore());
    if (direct) return direct;
    const first = this.#credentials[0];
    return first ? this.#lookupInStores(context, first) : null;
  }

  /** Every configured credential, store keys looked up. */
  async lookupAll(context: ContextLike): Promise<CredentialParams[]> {
    const result: CredentialParams[] = [];
    for (const credential of this.#credentials) {
      result.push(
        credential.useCredentialStore() ? await this.#lookupInStores(context, credential) : credential,
      );
    }
    return result;
  }

  async #lookupInStores(context: ContextLike, credential: CredentialParams): Promise<CredentialParams> {
    const key = credential.getStoreKey()!;
    const configKey = `${credential.configPath ?? 'credential'}.store_key`;
    const traceId = ContextResolver.getTraceId(context);
    const stores = this.#references?.getOptional<ICredentialStore>(CREDENTIAL_STORE_DESCRIPTOR) ?? [];
    if (stores.length === 0) {
      throw new ConfigError(
        `config key '${configKey}' is '${key}' but no credential store (${CREDENTIAL_STORE_DESCRIPTOR}) is referenced`,
        { traceId, details: { configKey, storeKey: key } },
      );
    }
    for (const store of stores) {
      const found = await store.lookup(context, key);
      if (found != null) {
        const merged = new CredentialParams(ConfigParams.mergeConfigs(credential, found));
        merged.configPath = credential.configPath;
        return merged;
      }
    }
    throw new ConfigError(`config key '${configKey}' is '${key}' but no credential store knows that key`, {
      traceId,
      details: { configKey, storeKey: key },
    });
  }
}
