/**
 * `NullCache`: a cache that stores nothing, as pip-services4's `NullCache` — for configurations
 * where caching is switched off. `retrieve` and `remove` resolve `null`; `store` resolves the value.
 */
import type { ContextLike } from '../component/IContext.js';
import type { ICache } from '../component/interfaces.js';

export class NullCache implements ICache {
  async retrieve(_context: ContextLike, _key: string): Promise<any> {
    return null;
  }

  async store(_context: ContextLike, _key: string, value: any, _timeout?: number | null): Promise<any> {
    return value ?? null;
  }

  async remove(_context: ContextLike, _key: string): Promise<any> {
    return null;
  }

  async clear(_context?: ContextLike): Promise<void> {}
}
