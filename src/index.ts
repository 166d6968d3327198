/**
 * memcached-cache: a pip-services4-style MemcachedCache component and the fast meta-protocol
 * memcached client under it.
 *
 * This list is the public API, on purpose: what a user of the components or of the client needs,
 * and what a pip-services container wires. Each name is documented in the README's API section
 * (a test checks that). Everything else is internal and may change in any release.
 */

// Components
export { DefaultMemcachedFactory } from './build/DefaultMemcachedFactory.js';
export {
  CreateError,
  CreateException,
  Factory,
  type FactoryFunction,
  type IFactory,
} from './build/Factory.js';
export { CacheEntry } from './cache/CacheEntry.js';
export type { CacheCounters, CacheLogger } from './cache/CacheInstrumentation.js';
export { JsonCodec, type JsonCodecOptions } from './cache/codec/JsonCodec.js';
export { type EncodedValue, type ValueCodec, ValueFlags } from './cache/codec/ValueCodec.js';
export { type GetOrStoreOptions, MemcachedCache } from './cache/MemcachedCache.js';
export { MemoryCache } from './cache/MemoryCache.js';
export { NullCache } from './cache/NullCache.js';
export {
  CLIENT_OPTIONS,
  type ClientOptionSpec,
  type MemcachedClientOptions,
} from './client/ClientOptions.js';
// The client
export type { Value } from './client/commands/WriteCommands.js';
export {
  COMMAND_TRACING,
  type CommandName,
  type CommandOutcome,
  type CommandTraceContext,
  type OutageReplayed,
  REPLAY_CHANNEL,
  TOPOLOGY_CHANNEL,
  type TopologyChange,
} from './client/diagnostics.js';
export { endpointsFromServerList } from './client/endpoints.js';
export type { Item, ItemWithTtl, LeasedItem } from './client/Item.js';
export {
  type CallOptions,
  type CounterOptions,
  type LeaseOptions,
  MemcachedClient,
  type SetEntry,
  type StoreOptions,
} from './client/MemcachedClient.js';
export type { ClusterChange, ClusterChangeListener } from './cluster/ClusterRouter.js';
export { ketamaSelector } from './cluster/KetamaRing.js';
export { rendezvousSelector } from './cluster/RendezvousSelector.js';
export type { SelectorFactory, ServerSelector, ServerSpec } from './cluster/ServerSelector.js';
export { serverId } from './cluster/ServerSelector.js';
// The pip-services4-shaped component model
export { ConfigParams } from './component/ConfigParams.js';
export { ConnectionParams } from './component/ConnectionParams.js';
export { ConnectionResolver } from './component/ConnectionResolver.js';
export { Context } from './component/Context.js';
export { ContextResolver } from './component/ContextResolver.js';
export { CredentialParams } from './component/CredentialParams.js';
export { CredentialResolver } from './component/CredentialResolver.js';
export { Descriptor } from './component/Descriptor.js';
// Errors
export {
  AbortError,
  AuthenticationError,
  ConfigError,
  ConfigException,
  ConnectionError,
  ContentionError,
  CorruptValueError,
  type ErrorOptions,
  InvalidKeyError,
  InvalidStateError,
  InvalidValueError,
  LoaderTimeoutError,
  LockTimeoutError,
  MemcachedCacheError,
  type MemcachedErrorCode,
  OverloadedError,
  ProtocolError,
  ReferenceException,
  ServerError,
  TimeoutError,
  UnsupportedServerError,
  ValueTooLargeError,
} from './component/errors.js';
export type { ContextLike, IContext } from './component/IContext.js';
export type { IReferences } from './component/IReferences.js';
export type * from './component/interfaces.js';
export { MemoryCredentialStore } from './component/MemoryCredentialStore.js';
export { MemoryDiscovery } from './component/MemoryDiscovery.js';
export { References } from './component/References.js';
export {
  COMPONENT_OPTIONS,
  type ComponentOptionName,
  type OptionSpec,
} from './connector/ComponentOptions.js';
export { Lock } from './lock/Lock.js';
export { MemcachedLock } from './lock/MemcachedLock.js';
export { MemoryLock, MemoryLockStore } from './lock/MemoryLock.js';
export { NullLock } from './lock/NullLock.js';
export type { DiscoveryStatus } from './topology/ClusterDiscovery.js';
export type { AutoDiscoveryMode, DiscoverySource } from './topology/serverListSource.js';
export type { ServerEndpoint } from './transport/ServerEndpoint.js';
export { CONNECT_TRACING, type ConnectTraceContext, type ServerAttributes } from './transport/tracing.js';
