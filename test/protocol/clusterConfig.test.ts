import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clusterConfigRequest,
  maxClusterConfigBytes,
  parseClusterConfig,
  readClusterConfigReply,
} from '../../src/protocol/ClusterConfig.js';

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

describe('ElastiCache configuration replies', () => {
  const body = '2\nh1|127.0.0.1|11211 h2||11212\n';
  const framed = (header: string) =>
    Buffer.from(`${header} 0 ${Buffer.byteLength(body)}\r\n${body}\r\nEND\r\n`);

  for (const header of ['CONFIG cluster', 'VALUE AmazonElastiCache:cluster']) {
    it(`'${header}': complete only with END, at every split`, () => {
      const reply = framed(header);
      for (let cut = 0; cut < reply.length; cut++) {
        assert.deepEqual(
          readClusterConfigReply(reply.subarray(0, cut)),
          { state: 'incomplete' },
          `cut ${cut}`,
        );
      }
      assert.deepEqual(readClusterConfigReply(reply), { state: 'config', body });
    });
  }

  it('a bare END is a missing configuration; ERROR and SERVER_ERROR are refusals', () => {
    assert.deepEqual(readClusterConfigReply(Buffer.from('END\r\n')), { state: 'missing' });
    assert.deepEqual(readClusterConfigReply(Buffer.from('ERROR\r\n')), { state: 'refused', line: 'ERROR' });
    assert.deepEqual(readClusterConfigReply(Buffer.from('SERVER_ERROR out of memory\r\n')), {
      state: 'refused',
      line: 'SERVER_ERROR out of memory',
    });
  });

  it('a body not followed by END, or a header line that never ends, is refused', () => {
    assert.equal(
      readClusterConfigReply(Buffer.from('CONFIG cluster 0 2\r\nab\r\nXXXXX\r\n')).state,
      'refused',
    );
    assert.equal(readClusterConfigReply(Buffer.alloc(2000, 0x41)).state, 'refused');
  });

  it('a body longer than the limit is oversized from the header on (its bytes are never waited for)', () => {
    assert.deepEqual(readClusterConfigReply(Buffer.from('CONFIG cluster 0 100000\r\n'), 1000), {
      state: 'oversized',
      length: 100000,
    });
    assert.deepEqual(readClusterConfigReply(framed('CONFIG cluster'), Buffer.byteLength(body)), {
      state: 'config',
      body,
    });
    // What a list of N nodes with the longest names and IPv6 addresses can take, not less.
    const longest = `${'n'.repeat(253)}|${'f'.repeat(45)}|65535`;
    const nodes = Array.from({ length: 3 }, () => longest).join(' ');
    assert.ok(Buffer.byteLength(`999999999999999\n${nodes}\n`) <= maxClusterConfigBytes(3));
  });

  it('request lines', () => {
    assert.equal(clusterConfigRequest('config get cluster'), 'config get cluster\r\n');
    assert.equal(clusterConfigRequest('get AmazonElastiCache:cluster'), 'get AmazonElastiCache:cluster\r\n');
  });
});
