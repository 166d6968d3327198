export * from './ClientOptions.js';
export {
  COMMAND_CHANNEL,
  type CommandMessage,
  type CommandName,
  type CommandOutcome,
  commandChannel,
} from './diagnostics.js';
export * from './endpoints.js';
export * from './Item.js';
export * from './MemcachedClient.js';
export * from './MemcachedConnector.js';
