import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/protocol/ClusterConfig.js';

describe('ElastiCache cluster configuration', () => {
  it('parses the version line (bare LF) and host|ip|port nodes', () => {
    const body = '12\nnode1.cache.amazonaws.com|10.0.0.1|11211 node2.cache.amazonaws.com|10.0.0.2|11212\n';
    assert.deepEqual(parseClusterConfig(body), {
      version: 12,
      nodes: [
        { host: 'node1.cache.amazonaws.com', address: '10.0.0.1', port: 11211 },
        { host: 'node2.cache.amazonaws.com', address: '10.0.0.2', port: 11212 },
      ],
    });
  });

  it('an empty ip means the host is the address; CRLF is accepted', () => {
    assert.deepEqual(parseClusterConfig('3\r\nlocalhost||11211\r\n').nodes, [
      { host: 'localhost', address: 'localhost', port: 11211 },
    ]);
  });

  it('a version with no nodes is an empty list (the poller ignores it)', () => {
    assert.deepEqual(parseClusterConfig('7\n\n'), { version: 7, nodes: [] });
  });

  for (const [body, why] of [
    ['x\nh|1.2.3.4|11211\n', /version number, got 'x'/],
    ['1\nh|1.2.3.4\n', /host\|ip\|port, got 'h\|1\.2\.3\.4'/],
    ['1\nh|1.2.3.4|70000\n', /host\|ip\|port/],
    ['1\n|1.2.3.4|11211\n', /host\|ip\|port/],
  ] as const) {
    it(`rejects ${JSON.stringify(body)}`, () => {
      assert.throws(() => parseClusterConfig(body), why);
    });
  }
});
