export * from './configEndpoint.js';
export * from './dnsServer.js';
export * from './events.js';
export * from './memcached.js';
export * from './rawClient.js';
export * from './textExchange.js';
export * from './trickleProxy.js';
export * from './twemproxy.js';
