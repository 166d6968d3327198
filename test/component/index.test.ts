import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as component from '../../src/component/index.js';

describe('component index', () => {
  it('re-exports the model and the error classes', () => {
    for (const name of [
      'ConfigParams',
      'ConnectionParams',
      'ConnectionResolver',
      'Context',
      'ContextResolver',
      'CredentialParams',
      'CredentialResolver',
      'Descriptor',
      'MemoryCredentialStore',
      'MemoryDiscovery',
      'References',
      'parseServerList',
      'readInteger',
      'readBoolean',
      'readString',
      'readEnum',
      'ConfigError',
      'ReferenceException',
      'MemcachedCacheError',
    ]) {
      assert.equal(typeof (component as Record<string, unknown>)[name], 'function', name);
    }
  });

  it('the seed configuration parses to one endpoint', () => {
    const config = component.ConfigParams.fromTuples(
      'connection.host',
      'localhost',
      'connection.port',
      11211,
    );
    const endpoints = component.parseServerList(component.ConnectionParams.manyFromConfig(config));
    assert.deepEqual(endpoints, [{ host: 'localhost', port: 11211, tls: false }]);
  });
});
