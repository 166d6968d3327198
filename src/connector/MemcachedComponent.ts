import type { MemcachedClient } from '../client/MemcachedClient.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import type { IOpenable, IReferenceable } from '../component/interfaces.js';
import { ComponentLifecycle } from './ComponentLifecycle.js';

/**
 * The base of MemcachedCache and MemcachedLock: references, open, close and the lifecycle rules
 * of ComponentLifecycle, written once. Subclasses configure through `lifecycle.configure` and
 * reach the client through `lifecycle`.
 */
export abstract class MemcachedComponent implements IReferenceable, IOpenable {
  protected readonly lifecycle: ComponentLifecycle;

  constructor(name: string) {
    this.lifecycle = new ComponentLifecycle(name, {
      opened: (context, client) => this.opened(context, client),
      closed: (context, wasOpen) => this.closed(context, wasOpen),
    });
  }

  setReferences(references: IReferences): void {
    this.lifecycle.setReferences(references);
  }

  isOpen(): boolean {
    return this.lifecycle.isOpen();
  }

  /**
   * Resolves the connections and verifies at least one server answers. Idempotent; concurrent
   * calls share one client.
   */
  open(context: ContextLike): Promise<void> {
    return this.lifecycle.open(context);
  }

  /**
   * Rejects pending work and closes every socket; the process can then exit. Idempotent. During
   * an `open()`, that open rejects with InvalidStateError and leaves no socket.
   */
  close(context: ContextLike): Promise<void> {
    return this.lifecycle.close(context);
  }

  /** Called once the client is connected (for logging). */
  protected opened(_context: ContextLike, _client: MemcachedClient): void {}

  /** Called by close(), before the sockets close. */
  protected closed(_context: ContextLike, _wasOpen: boolean): void {}
}
