import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigParams, MemcachedCache } from '../../src/index.js';
import { type MemcachedProcess, startMemcached, stopAllMemcached } from '../support/index.js';

describe('the seed example', () => {
  let server: MemcachedProcess;
  before(async () => {
    server = await startMemcached();
  });
  after(stopAllMemcached);

  it('works as written: store("123","key1","ABC",5000) then retrieve gives "ABC"', async () => {
    const cache = new MemcachedCache();
    cache.configure(ConfigParams.fromTuples('connection.host', 'localhost', 'connection.port', server.port));
    await cache.open('123');
    assert.equal(cache.isOpen(), true);
    assert.equal(await cache.store('123', 'key1', 'ABC', 5000), 'ABC');
    const value = await cache.retrieve('123', 'key1');
    assert.equal(value, 'ABC');
    assert.equal(await cache.remove('123', 'key1'), 'ABC');
    assert.equal(await cache.retrieve('123', 'key1'), null);
    await cache.close('123');
    assert.equal(cache.isOpen(), false);
  });
});
