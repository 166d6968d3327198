export * from './JsonCodec.js';
export * from './ValueCodec.js';
