/** The pip-services4-shaped component model: configuration, references, context, connections. */
export * from './ConfigParams.js';
export * from './ConfigReaders.js';
export * from './ConnectionParams.js';
export * from './ConnectionResolver.js';
export * from './Context.js';
export * from './ContextResolver.js';
export * from './CredentialParams.js';
export * from './CredentialResolver.js';
export * from './Descriptor.js';
export * from './errors.js';
export * from './IContext.js';
export * from './IReferences.js';
export * from './interfaces.js';
export * from './MemoryCredentialStore.js';
export * from './MemoryDiscovery.js';
export * from './References.js';
export * from './ServerEndpoint.js';
