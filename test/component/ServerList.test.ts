import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerList, parseServerUri, redactUri } from '../../src/component/ServerList.js';
import {
  ConfigError,
  ConfigParams,
  ConnectionParams,
  ConnectionResolver,
  Descriptor,
  MemoryDiscovery,
  References,
} from '../../src/index.js';

const fromConfig = (...tuples: unknown[]) =>
  parseServerList(ConnectionParams.manyFromConfig(ConfigParams.fromTuples(...tuples)));

function configError(fn: () => unknown, pattern: RegExp): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('parseServerList: host/port keys', () => {
  it('reads the seed example', () => {
    assert.deepEqual(fromConfig('connection.host', 'localhost', 'connection.port', 11211), [
      { host: 'localhost', port: 11211, tls: false },
    ]);
  });

  it('defaults the port to 11211 and accepts ip as host alias', () => {
    assert.deepEqual(fromConfig('connection.ip', '10.0.0.5'), [
      { host: '10.0.0.5', port: 11211, tls: false },
    ]);
  });

  it('accepts IPv6 hosts with or without brackets', () => {
    assert.deepEqual(fromConfig('connection.host', '::1', 'connection.port', '11300'), [
      { host: '::1', port: 11300, tls: false },
    ]);
    assert.deepEqual(fromConfig('connection.host', '[fe80::1]'), [
      { host: 'fe80::1', port: 11211, tls: false },
    ]);
  });

  it('protocol memcacheds turns TLS on; unknown protocol is a ConfigError', () => {
    assert.equal(fromConfig('connection.host', 'h', 'connection.protocol', 'memcacheds')[0]!.tls, true);
    assert.equal(fromConfig('connection.host', 'h', 'connection.protocol', 'memcached')[0]!.tls, false);
    configError(
      () => fromConfig('connection.host', 'h', 'connection.protocol', 'http'),
      /'connection\.protocol'.*'http'/,
    );
  });

  it('reads several connections in order, connections wins over connection', () => {
    const list = fromConfig(
      'connection.host',
      'ignored',
      'connections.0.host',
      'a',
      'connections.1.host',
      'b',
      'connections.1.port',
      '2',
    );
    assert.deepEqual(list, [
      { host: 'a', port: 11211, tls: false },
      { host: 'b', port: 2, tls: false },
    ]);
  });

  it('missing host → ConfigError naming connection.host', () => {
    const err = configError(() => fromConfig('connection.port', 11211), /'connection\.host' is missing/);
    assert.match(err.message, /connection\.uri/);
    assert.match(err.message, /connection\.discovery_key/);
    assert.deepEqual(err.details, { configKey: 'connection.host' });
    configError(
      () => fromConfig('connections.0.host', 'a', 'connections.1.port', '1'),
      /'connections\.1\.host'/,
    );
    configError(
      () => fromConfig('connection.host', '', 'connection.port', '1'),
      /'connection\.host' is missing/,
    );
  });

  it('no connection at all → ConfigError', () => {
    configError(() => parseServerList([]), /'connection' is missing/);
  });

  it('port "abc" → ConfigError naming connection.port and the text', () => {
    configError(
      () => fromConfig('connection.host', 'h', 'connection.port', 'abc'),
      /'connection\.port'.*'abc'/,
    );
  });

  it('port 0, 70000, -1 and 1.5 are rejected; 1 and 65535 accepted', () => {
    for (const bad of ['0', '70000', '-1', '1.5', '65536']) {
      configError(
        () => fromConfig('connection.host', 'h', 'connection.port', bad),
        /'connection\.port' must be a port between 1 and 65535/,
      );
    }
    assert.equal(fromConfig('connection.host', 'h', 'connection.port', '1')[0]!.port, 1);
    assert.equal(fromConfig('connection.host', 'h', 'connection.port', '65535')[0]!.port, 65535);
  });

  it('bad port in connections.2 names connections.2.port', () => {
    configError(
      () =>
        fromConfig(
          'connections.0.host',
          'a',
          'connections.1.host',
          'b',
          'connections.2.host',
          'c',
          'connections.2.port',
          'x',
        ),
      /'connections\.2\.port'/,
    );
  });

  it('host with a port or spaces is rejected', () => {
    configError(
      () => fromConfig('connection.host', 'h:11211'),
      /'connection\.host' is not a valid host.*port key/,
    );
    configError(() => fromConfig('connection.host', 'bad host'), /'connection\.host'/);
  });
});

describe('parseServerList: uri forms', () => {
  it('memcached://host:port', () => {
    assert.deepEqual(fromConfig('connection.uri', 'memcached://cache.local:11300'), [
      { host: 'cache.local', port: 11300, tls: false },
    ]);
  });

  it('memcacheds:// turns TLS on; default port applies; trailing slash allowed', () => {
    assert.deepEqual(fromConfig('connection.uri', 'memcacheds://secure.local/'), [
      { host: 'secure.local', port: 11211, tls: true },
    ]);
  });

  it('host:port,host2:port2 in one uri', () => {
    assert.deepEqual(fromConfig('connection.uri', 'a:1, b:2,c'), [
      { host: 'a', port: 1, tls: false },
      { host: 'b', port: 2, tls: false },
      { host: 'c', port: 11211, tls: false },
    ]);
  });

  it('items without scheme inherit the previous scheme', () => {
    assert.deepEqual(
      fromConfig('connection.uri', 'memcacheds://a:1,b:2').map((e) => e.tls),
      [true, true],
    );
  });

  it('user info gives username and password (percent-decoded)', () => {
    assert.deepEqual(fromConfig('connection.uri', 'memcached://app:p%40ss@h:11211'), [
      { host: 'h', port: 11211, tls: false, username: 'app', password: 'p@ss' },
    ]);
  });

  it('unix sockets', () => {
    assert.deepEqual(fromConfig('connection.uri', 'unix:///var/run/memcached.sock'), [
      { host: '/var/run/memcached.sock', port: 0, socketPath: '/var/run/memcached.sock', tls: false },
    ]);
    assert.equal(fromConfig('connection.uri', '/tmp/mc.sock')[0]!.socketPath, '/tmp/mc.sock');
    configError(() => fromConfig('connection.uri', 'unix://'), /absolute path/);
  });

  it('IPv6 in brackets', () => {
    assert.deepEqual(fromConfig('connection.uri', '[::1]:11212,memcached://[2001:db8::1]'), [
      { host: '::1', port: 11212, tls: false },
      { host: '2001:db8::1', port: 11211, tls: false },
    ]);
    configError(() => fromConfig('connection.uri', '::1:11211'), /must be in brackets/);
    configError(() => fromConfig('connection.uri', '[::1:11211'), /missing '\]'/);
  });

  it('uri wins over host/port; a port key is the default for uri items without port', () => {
    assert.deepEqual(fromConfig('connection.uri', 'u:1', 'connection.host', 'h'), [
      { host: 'u', port: 1, tls: false },
    ]);
    assert.deepEqual(fromConfig('connection.uri', 'u', 'connection.port', '5'), [
      { host: 'u', port: 5, tls: false },
    ]);
  });

  it('protocol memcacheds applies TLS to uri endpoints too', () => {
    assert.equal(fromConfig('connection.uri', 'a:1', 'connection.protocol', 'memcacheds')[0]!.tls, true);
  });

  it('empty uri → ConfigError naming connection.uri', () => {
    configError(() => fromConfig('connection.uri', ''), /'connection\.uri' is empty/);
    configError(
      () => fromConfig('connections.0.host', 'a', 'connections.1.uri', '  '),
      /'connections\.1\.uri' is empty/,
    );
  });

  it('malformed uris → ConfigError naming the key', () => {
    const cases: [string, RegExp][] = [
      ['memcached://', /no host/],
      ['memcached://h:abc', /must be a port.*'abc'/],
      ['memcached://h:70000', /between 1 and 65535/],
      ['memcached://h:', /empty port/],
      ['http://h:1', /unsupported scheme 'http'/],
      ['memcached://h/db', /paths are not supported/],
      ['a:1,,b:2', /empty item/],
      ['memcached://h?x=1', /unexpected character/],
      ['memcached:/h', /expected scheme/],
    ];
    for (const [uri, pattern] of cases) {
      const err = configError(
        () => fromConfig('connections.0.host', 'ok', 'connections.1.uri', uri),
        pattern,
      );
      assert.match(err.message, /config key 'connections\.1\.uri'/, uri);
    }
  });

  it('passwords never appear in error messages', () => {
    const err = configError(
      () => fromConfig('connection.uri', 'memcached://app:TOPSECRET@h:bad'),
      /connection\.uri/,
    );
    assert.doesNotMatch(err.message, /TOPSECRET/);
    const err2 = configError(() => fromConfig('connection.uri', 'http://app:TOPSECRET@h'), /scheme/);
    assert.doesNotMatch(err2.message, /TOPSECRET/);
    const err3 = configError(() => fromConfig('connection.uri', 'memcached://app:TOP%zzSECRET@h'), /percent/);
    assert.doesNotMatch(err3.message, /TOP/);
    const err4 = configError(() => fromConfig('connection.uri', 'memcached://app:TOPSECRET@h/x'), /paths/);
    assert.doesNotMatch(err4.message, /TOPSECRET/);
  });

  it('connections without configPath are named connections.<index>', () => {
    configError(
      () =>
        parseServerList([ConnectionParams.fromTuples('host', 'a'), ConnectionParams.fromTuples('port', 'x')]),
      /'connections\.1\.host'/,
    );
  });

  it('a custom default port is honoured', () => {
    assert.equal(
      parseServerList([ConnectionParams.fromTuples('host', 'a')], { defaultPort: 5000 })[0]!.port,
      5000,
    );
    assert.equal(parseServerUri('a', 'k', { defaultPort: 6000 })[0]!.port, 6000);
  });
});

describe('parseServerList after discovery', () => {
  it('endpoints come from MemoryDiscovery; errors mention the discovery key', async () => {
    const discovery = new MemoryDiscovery(
      ConfigParams.fromTuples('good.uri', 'memcached://d1:11300,d2', 'bad.host', 'h', 'bad.port', 'abc'),
    );
    const refs = References.fromTuples(new Descriptor('x', 'discovery', 'memory', 'x', '1.0'), discovery);
    const good = new ConnectionResolver(ConfigParams.fromTuples('connection.discovery_key', 'good'), refs);
    assert.deepEqual(parseServerList(await good.resolveAll('1')), [
      { host: 'd1', port: 11300, tls: false },
      { host: 'd2', port: 11211, tls: false },
    ]);
    const bad = new ConnectionResolver(ConfigParams.fromTuples('connection.discovery_key', 'bad'), refs);
    const connections = await bad.resolveAll('1');
    configError(() => parseServerList(connections), /'connection\.port'.*'abc'.*discovery_key 'bad'/);
  });
});

describe('redactUri', () => {
  it('redacts passwords in uri lists', () => {
    assert.equal(redactUri('memcached://u:p@h:1,v:q@k'), 'memcached://u:***@h:1,v:***@k');
    assert.equal(redactUri('memcached://u@h'), 'memcached://u@h');
    assert.equal(redactUri('h:1'), 'h:1');
  });
});
