/**
 * `MemoryCredentialStore`: an `ICredentialStore` holding credentials in memory — for tests and
 * for wiring credentials by name. Config has one section per store key:
 * `user1.username=app;user1.password=…`.
 */
import type { ConfigParams } from './ConfigParams.js';
import { CredentialParams } from './CredentialParams.js';
import type { ContextLike } from './IContext.js';
import type { ICredentialStore, IReconfigurable } from './interfaces.js';

export class MemoryCredentialStore implements ICredentialStore, IReconfigurable {
  readonly #items = new Map<string, CredentialParams>();

  constructor(config?: ConfigParams | null) {
    if (config != null) this.configure(config);
  }

  configure(config: ConfigParams): void {
    this.readCredentials(config);
  }

  /** Replaces all entries: each first-level section becomes the credential of that key. */
  readCredentials(config: ConfigParams): void {
    this.#items.clear();
    for (const key of config.getSectionNames()) {
      this.#items.set(key, new CredentialParams(config.getSection(key)));
    }
  }

  async store(_context: ContextLike, key: string, credential: CredentialParams | null): Promise<void> {
    if (credential == null) this.#items.delete(key);
    else this.#items.set(key, new CredentialParams(credential));
  }

  async lookup(_context: ContextLike, key: string): Promise<CredentialParams | null> {
    return this.#items.get(key)?.clone() ?? null;
  }
}
