/**
 * The small pip-services4 contracts, grouped because each is a few lines. Components implement
 * them so a container (or a test) can drive any of them the same way: configure → setReferences →
 * open → … → close. `context` is `ContextLike`: an `IContext`, a trace id string, or nothing.
 */
import type { ConfigParams } from './ConfigParams.js';
import type { ConnectionParams } from './ConnectionParams.js';
import type { CredentialParams } from './CredentialParams.js';
import type { ContextLike } from './IContext.js';
import type { IReferences } from './IReferences.js';

/** Receives its configuration once, before `open`. Bad values throw `ConfigError`. */
export interface IConfigurable {
  configure(config: ConfigParams): void;
}

/** May be configured again while running. */
export interface IReconfigurable extends IConfigurable {}

/** Receives its dependencies (loggers, discovery services, …). */
export interface IReferenceable {
  setReferences(references: IReferences): void;
}

/** Releases the dependencies it received. */
export interface IUnreferenceable {
  unsetReferences(): void;
}

export interface IClosable {
  /** Idempotent: closing a closed component does nothing. */
  close(context: ContextLike): Promise<void>;
}

export interface IOpenable extends IClosable {
  isOpen(): boolean;
  /** Idempotent: opening an open component does nothing. */
  open(context: ContextLike): Promise<void>;
}

/** pip-services4 `ICache`. `timeout` is a TTL in milliseconds. */
export interface ICache {
  /** The value, or `null` when missing or expired. */
  retrieve(context: ContextLike, key: string): Promise<any>;
  /** Resolves the stored value. */
  store(context: ContextLike, key: string, value: any, timeout: number): Promise<any>;
  /** Resolves the value that was removed, or `null`. */
  remove(context: ContextLike, key: string): Promise<any>;
}

/** pip-services4 `ILock`. `ttl` and `timeout` are milliseconds. */
export interface ILock {
  tryAcquireLock(context: ContextLike, key: string, ttl: number): Promise<boolean>;
  /** Retries until acquired; rejects with `LockTimeoutError` after `timeout` ms. */
  acquireLock(context: ContextLike, key: string, ttl: number, timeout: number): Promise<void>;
  releaseLock(context: ContextLike, key: string): Promise<void>;
}

/** Resolves `discovery_key`s to connections. Registered as `*:discovery:*:*:1.0`. */
export interface IDiscovery {
  register(context: ContextLike, key: string, connection: ConnectionParams): Promise<ConnectionParams>;
  resolveOne(context: ContextLike, key: string): Promise<ConnectionParams | null>;
  resolveAll(context: ContextLike, key: string): Promise<ConnectionParams[]>;
}

/** Resolves `store_key`s to credentials. Registered as `*:credential-store:*:*:1.0`. */
export interface ICredentialStore {
  /** Stores (or, with `null`, deletes) the credential under `key`. */
  store(context: ContextLike, key: string, credential: CredentialParams | null): Promise<void>;
  lookup(context: ContextLike, key: string): Promise<CredentialParams | null>;
}
