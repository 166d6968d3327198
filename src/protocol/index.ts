export * from './KeyEncoder.js';
export * from './MetaResponse.js';
export * from './RequestEncoder.js';
export * from './ResponseParser.js';
export * from './ResponseStatus.js';
export * from './TtlEncoder.js';
