import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KetamaRing, ketamaPointCount, ketamaPointKey } from '../../src/cluster/KetamaRing.js';
import { md5Word0, md5Words } from '../../src/cluster/md5.js';
import type { ServerSpec } from '../../src/cluster/ServerSelector.js';
import { KETAMA_SERVERS, KETAMA_VECTORS } from './ketamaVectors.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

function libmemcachedTestRing(): KetamaRing {
  return new KetamaRing(
    KETAMA_SERVERS.map((s) => ({ id: s.host, host: s.host, port: 11211, weight: s.weight })),
  );
}

function equalServers(n: number, port = 11211): ServerSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `s${i}`, host: `10.0.0.${i + 1}`, port }));
}

describe('md5', () => {
  it('matches node:crypto for every length across block boundaries', () => {
    for (let len = 0; len < 200; len++) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
      const d = createHash('md5').update(data).digest();
      assert.deepEqual(
        Array.from(md5Words(data)),
        [0, 4, 8, 12].map((o) => d.readUInt32LE(o)),
        `len ${len}`,
      );
      assert.equal(md5Word0(data), d.readUInt32LE(0));
    }
  });

  it('matches node:crypto for random byte strings (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        assert.equal(md5Word0(data), createHash('md5').update(data).digest().readUInt32LE(0));
      }),
      { numRuns: 500 },
    );
  });
});

describe('KetamaRing — libmemcached weighted ketama vectors', () => {
  const ring = libmemcachedTestRing();
  const continuum = ring.continuum();

  it('hashes each key as libmemcached does (MD5 bytes 0–3, little-endian)', () => {
    for (const [key, hash] of KETAMA_VECTORS) assert.equal(KetamaRing.hash(utf8(key)), hash, key);
  });

  it('lands each key on the published continuum point', () => {
    for (const [key, hash, point] of KETAMA_VECTORS) {
      const found = continuum.find((c) => c.value >= hash);
      assert.equal(found?.value, point, key);
    }
  });

  it('routes all 99 published keys to the published server', () => {
    for (const [key, , , server] of KETAMA_VECTORS) assert.equal(ring.pickString(key), server, key);
  });

  it('wraps around: VDEAAAAA hashes past the last point and goes to the first point', () => {
    const hash = KetamaRing.hash(utf8('VDEAAAAA'));
    assert.equal(hash, 0xfffcd1b5);
    assert.ok(hash > continuum[continuum.length - 1]!.value);
    assert.equal(ring.pickString('VDEAAAAA'), continuum[0]!.id);
  });

  it('sizes the continuum with libmemcached float arithmetic', () => {
    // floor(weight/total × 40 × 8) × 4 per server, in single precision: 1264, not 8 × 160.
    assert.equal(ring.size, 1264);
    const values = continuum.map((c) => c.value);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
    );
  });
});

describe('KetamaRing — construction details', () => {
  it('gives 160 points per server for equal weights', () => {
    for (const n of [1, 2, 3, 5, 7, 10, 33]) assert.equal(ketamaPointCount(1, n, n), 160, `n=${n}`);
    assert.equal(new KetamaRing(equalServers(3)).size, 480);
  });

  it('computes point counts in single precision, as the C code does', () => {
    // weights [1, 2, 3, 4, 15]: pct × 40 × 5 for weight 1 is 8 in exact arithmetic, but
    // (float)(1/25) × 160 / 4 × 5 = 7.9999995 in float → 7 groups = 28 points (double math: 32).
    assert.equal(ketamaPointCount(1, 25, 5), 28);
    assert.equal(Math.floor((1 / 25) * 40 * 5 + 1e-10) * 4, 32);
    const ring = new KetamaRing(
      [1, 2, 3, 4, 15].map((w, i) => ({ id: `s${i}`, host: `h${i}`, port: 11211, weight: w })),
    );
    assert.equal(ring.size, 28 + 60 + 92 + 124 + 480);
  });

  it('treats weight 0 or missing as 1 and rejects bad weights', () => {
    const a = new KetamaRing([
      { id: 'a', host: 'a', port: 1 },
      { id: 'b', host: 'b', port: 1, weight: 0 },
    ]);
    const b = new KetamaRing([
      { id: 'a', host: 'a', port: 1, weight: 1 },
      { id: 'b', host: 'b', port: 1, weight: 1 },
    ]);
    assert.deepEqual(a.continuum(), b.continuum());
    assert.throws(() => new KetamaRing([{ id: 'a', host: 'a', port: 1, weight: 1.5 }]), RangeError);
    assert.throws(() => new KetamaRing([{ id: 'a', host: 'a', port: 1, weight: -1 }]), RangeError);
  });

  it('rejects duplicate ids', () => {
    assert.throws(() => new KetamaRing([...equalServers(2), equalServers(1)[0]!]), RangeError);
  });

  it('leaves the port out of point strings only for 11211', () => {
    assert.equal(ketamaPointKey('10.0.0.1', 11211, 0), '10.0.0.1-0');
    assert.equal(ketamaPointKey('10.0.0.1', 11212, 39), '10.0.0.1:11212-39');
    assert.equal(ketamaPointKey('/tmp/mc.sock', 0, 3), '/tmp/mc.sock:0-3');
  });

  it('uses the port in the points, so the same host on two ports gets two point sets', () => {
    const ring = new KetamaRing([
      { id: 'h:11211', host: 'h', port: 11211 },
      { id: 'h:11212', host: 'h', port: 11212 },
    ]);
    const first = utf8('h-0');
    const own = md5Words(first);
    const points = ring.continuum();
    for (const w of own) assert.equal(points.find((p) => p.value === w)?.id, 'h:11211');
  });

  it('single server: every key goes to it; empty ring: undefined', () => {
    const one = new KetamaRing([{ id: 'only', host: 'x', port: 11211 }]);
    assert.equal(one.pick(utf8('anything')), 'only');
    assert.equal(one.pick(new Uint8Array(0)), 'only');
    assert.equal(new KetamaRing([]).pick(utf8('k')), undefined);
  });
});

describe('KetamaRing — distribution and remapping', () => {
  it('spreads 10,000 keys over 3 servers, each getting 20–45%', () => {
    const ring = new KetamaRing(equalServers(3));
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const id = ring.pickString(`key:${i}`)!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.equal(counts.size, 3);
    for (const [id, c] of counts) assert.ok(c >= 2000 && c <= 4500, `${id} got ${c}`);
  });

  it('follows weights roughly', () => {
    const ring = new KetamaRing([
      { id: 'a', host: 'a', port: 11211, weight: 1 },
      { id: 'b', host: 'b', port: 11211, weight: 3 },
    ]);
    let b = 0;
    for (let i = 0; i < 10_000; i++) if (ring.pickString(`key:${i}`) === 'b') b++;
    assert.ok(b > 6500 && b < 8500, `b got ${b}`);
  });

  it('moves only the removed server’s keys when servers have equal weights', () => {
    const ring = new KetamaRing(equalServers(5, 11300));
    const smaller = ring.without(['s2']);
    assert.deepEqual(smaller.ids, ['s0', 's1', 's3', 's4']);
    let movedFromRemoved = 0;
    for (let i = 0; i < 10_000; i++) {
      const key = `user:${i}`;
      const before = ring.pickString(key);
      const after = smaller.pickString(key);
      if (before === 's2') {
        assert.notEqual(after, 's2');
        movedFromRemoved++;
      } else {
        assert.equal(after, before, key);
      }
    }
    assert.ok(movedFromRemoved > 1000);
  });

  it('with unequal weights, survivors gain points too, so a few of their keys move (as in libmemcached)', () => {
    const ring = new KetamaRing(
      [1, 2, 3, 4].map((w, i) => ({ id: `s${i}`, host: `10.0.0.${i}`, port: 11211, weight: w })),
    );
    const smaller = ring.without(['s1']);
    let survivors = 0;
    let moved = 0;
    for (let i = 0; i < 10_000; i++) {
      const before = ring.pickString(`k${i}`);
      if (before === 's1') continue;
      survivors++;
      if (smaller.pickString(`k${i}`) !== before) moved++;
    }
    assert.ok(moved > 0 && moved / survivors < 0.1, `${moved}/${survivors}`);
  });

  it('re-adding a removed server restores the original mapping exactly', () => {
    const servers = equalServers(4);
    const ring = new KetamaRing(servers);
    const back = new KetamaRing(
      ring
        .without(['s1'])
        .servers.concat(servers[1]!)
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    assert.deepEqual(back.continuum(), ring.continuum());
  });
});
