import type { MemcachedClient } from '../client/MemcachedClient.js';
import { checkComponentKey, withTrace } from '../component/ComponentKey.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { ContextResolver } from '../component/ContextResolver.js';
import { InvalidStateError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import { MemcachedConnector } from './MemcachedConnector.js';

/** What a component does when it opens or closes (logging, clearing its near cache). */
export interface LifecycleHooks {
  opened?(context: ContextLike, client: MemcachedClient): void;
  closed?(context: ContextLike, wasOpen: boolean): void;
}

/**
 * The configure/open/close/key handling shared by MemcachedCache and MemcachedLock.
 *
 * - `configure` is atomic (everything is validated before anything is replaced) and only allowed
 *   while closed: a configuration takes effect at `open()`, all of it at once, so a component
 *   never runs on half an old and half a new configuration. Reconfigure by close, configure, open.
 * - `open` is idempotent and shared by concurrent callers: one client, one set of sockets.
 * - `close` wins over an `open` in progress: the client being connected is closed at once, the
 *   pending `open()` rejects with InvalidStateError, and no socket is left behind.
 */
export class ComponentLifecycle {
  private readonly connector = new MemcachedConnector();
  private client: MemcachedClient | null = null;
  /** The client an `open()` in progress is connecting, so that `close()` can close it. */
  private connecting: MemcachedClient | null = null;
  private opening: Promise<void> | null = null;
  /** Incremented by close(): an open() that started before a close() must not complete. */
  private generation = 0;
  private keyPrefix = '';

  constructor(
    private readonly name: string,
    private readonly hooks: LifecycleHooks = {},
  ) {}

  /**
   * Validates the connection settings of `config`, then `applyOwn`'s (which must validate before
   * it returns its apply step), then applies both. Throws InvalidStateError while open.
   */
  configure(config: ConfigParams, validateOwn: () => () => void = () => () => {}): void {
    if (this.client !== null || this.opening !== null) {
      throw new InvalidStateError(
        `${this.name} is open: configure() takes effect only before open(); call close() first`,
      );
    }
    const applyOwn = validateOwn();
    this.connector.configure(config);
    this.keyPrefix = this.connector.options.keyPrefix;
    applyOwn();
  }

  setReferences(references: IReferences): void {
    this.connector.setReferences(references);
  }

  isOpen(): boolean {
    return this.client !== null;
  }

  open(context: ContextLike): Promise<void> {
    if (this.client !== null) return Promise.resolve();
    if (this.opening === null) {
      const opening: Promise<void> = this.connect(context).finally(() => {
        if (this.opening === opening) this.opening = null;
      });
      this.opening = opening;
    }
    return this.opening;
  }

  async close(context: ContextLike): Promise<void> {
    this.generation++;
    this.opening = null; // that open() fails; an open() after this close() starts afresh
    const client = this.client ?? this.connecting;
    const wasOpen = this.client !== null;
    this.client = null;
    this.connecting = null;
    this.hooks.closed?.(context, wasOpen);
    client?.close();
  }

  /** The open client, or InvalidStateError with the caller's trace id. */
  openClient(context: ContextLike): MemcachedClient {
    if (this.client === null) {
      throw new InvalidStateError(`${this.name} is not open: call open() first`, {
        traceId: ContextResolver.getTraceId(context),
      });
    }
    return this.client;
  }

  /** The key as sent: checked (`checkComponentKey`) and prefixed with `key_prefix`. */
  fullKey(context: ContextLike, key: string): string {
    checkComponentKey(context, key);
    return this.keyPrefix === '' ? key : this.keyPrefix + key;
  }

  /** Runs `call` on the open client; any error leaving it carries the caller's trace id. */
  async traced<T>(context: ContextLike, call: (client: MemcachedClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.openClient(context));
    } catch (error) {
      throw withTrace(error, context);
    }
  }

  private async connect(context: ContextLike): Promise<void> {
    const generation = this.generation;
    const client = await this.connector.createClient(context);
    if (generation !== this.generation) {
      client.close();
      throw this.closedWhileOpening(context);
    }
    this.connecting = client;
    try {
      await client.connect();
    } catch (error) {
      client.close();
      if (generation !== this.generation) throw this.closedWhileOpening(context);
      this.connecting = null;
      throw withTrace(error, context);
    }
    if (generation !== this.generation) {
      client.close();
      throw this.closedWhileOpening(context);
    }
    this.connecting = null;
    this.client = client;
    this.hooks.opened?.(context, client);
  }

  private closedWhileOpening(context: ContextLike): InvalidStateError {
    return new InvalidStateError(`${this.name} was closed while open() was in progress`, {
      traceId: ContextResolver.getTraceId(context),
    });
  }
}
