import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigParams, ConnectionParams } from '../../src/index.js';

describe('ConnectionParams', () => {
  it('getters and setters', () => {
    const c = new ConnectionParams();
    assert.equal(c.getHost(), null);
    assert.equal(c.getPort(), 0);
    assert.equal(c.getPortWithDefault(11211), 11211);
    c.setHost('h');
    c.setPort(1234);
    c.setUri('memcached://x');
    c.setProtocol('memcacheds');
    assert.equal(c.getHost(), 'h');
    assert.equal(c.getPort(), 1234);
    assert.equal(c.getUri(), 'memcached://x');
    assert.equal(c.getProtocol(), 'memcacheds');
    assert.equal(c.getProtocolWithDefault('tcp'), 'memcacheds');
    assert.equal(ConnectionParams.fromTuples('ip', '10.0.0.1').getHost(), '10.0.0.1');
  });

  it('getPort is lenient like pip-services (0 for garbage)', () => {
    assert.equal(ConnectionParams.fromTuples('port', 'abc').getPort(), 0);
    assert.equal(ConnectionParams.fromTuples('port', 'abc').getPortWithDefault(11211), 11211);
  });

  it('useDiscovery is true only for a non-empty discovery_key', () => {
    assert.equal(ConnectionParams.fromTuples('discovery_key', 'k').useDiscovery(), true);
    assert.equal(ConnectionParams.fromTuples('discovery_key', 'k').getDiscoveryKey(), 'k');
    assert.equal(ConnectionParams.fromTuples('discovery_key', '').useDiscovery(), false);
    assert.equal(ConnectionParams.fromTuples('host', 'h').useDiscovery(), false);
  });

  it('manyFromConfig reads connection.*', () => {
    const list = ConnectionParams.manyFromConfig(
      ConfigParams.fromTuples('connection.host', 'localhost', 'connection.port', 11211, 'options.x', 1),
    );
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.toJSON(), { host: 'localhost', port: '11211' });
    assert.equal(list[0]!.configPath, 'connection');
  });

  it('manyFromConfig reads connections.N.* in numeric order', () => {
    const config = new ConfigParams();
    for (const i of [0, 2, 10, 1]) config.put(`connections.${i}.host`, `h${i}`);
    const list = ConnectionParams.manyFromConfig(config);
    assert.deepEqual(
      list.map((c) => c.getHost()),
      ['h0', 'h1', 'h2', 'h10'],
    );
    assert.deepEqual(
      list.map((c) => c.configPath),
      ['connections.0', 'connections.1', 'connections.2', 'connections.10'],
    );
  });

  it('connections wins over connection', () => {
    const list = ConnectionParams.manyFromConfig(
      ConfigParams.fromTuples(
        'connection.host',
        'single',
        'connections.0.host',
        'a',
        'connections.1.host',
        'b',
      ),
    );
    assert.deepEqual(
      list.map((c) => c.getHost()),
      ['a', 'b'],
    );
  });

  it('manyFromConfig works with fromValue arrays', () => {
    const list = ConnectionParams.manyFromConfig(
      ConfigParams.fromValue({ connections: [{ host: 'a', port: 1 }, { uri: 'memcached://b:2' }] }),
    );
    assert.equal(list.length, 2);
    assert.equal(list[1]!.getUri(), 'memcached://b:2');
  });

  it('manyFromConfig returns [] when nothing is configured; fromConfig returns null', () => {
    assert.deepEqual(ConnectionParams.manyFromConfig(ConfigParams.fromTuples('options.a', 1)), []);
    assert.equal(ConnectionParams.fromConfig(new ConfigParams()), null);
    assert.equal(
      ConnectionParams.fromConfig(ConfigParams.fromTuples('connections.0.host', 'x'))!.getHost(),
      'x',
    );
  });

  it('copies keep configPath and are independent', () => {
    const a = ConnectionParams.fromTuples('host', 'h');
    a.configPath = 'connections.3';
    const b = a.clone();
    b.setHost('other');
    assert.equal(b.configPath, 'connections.3');
    assert.equal(a.getHost(), 'h');
    assert.ok(b instanceof ConnectionParams);
  });
});
