export * from './Connection.js';
export * from './Pool.js';
export * from './Request.js';
export * from './ServerEndpoint.js';
