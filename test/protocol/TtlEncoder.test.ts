// wireTtl (seconds → the TTL on the wire, absolute beyond 30 days) moved to WireFields; its tests
// are in WireFields.test.ts. This file keeps what TtlEncoder still owns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELATIVE_TTL_LIMIT_SECONDS, secondsForMs } from '../../src/protocol/TtlEncoder.js';

test('memcached reads a TTL above 30 days as an absolute Unix time', () => {
  assert.equal(RELATIVE_TTL_LIMIT_SECONDS, 2_592_000);
});

test('a TTL in ms becomes whole seconds plus one, so memcached never ends it early', () => {
  // memcached's clock ticks once a second: N seconds live between N−1 and N.
  assert.equal(secondsForMs(1), 2);
  assert.equal(secondsForMs(999), 2);
  assert.equal(secondsForMs(1000), 2);
  assert.equal(secondsForMs(1001), 3);
  assert.equal(secondsForMs(1500), 3);
  assert.equal(secondsForMs(60_000), 61);
  for (const ms of [1, 250, 999, 1000, 1001, 1999, 2000, 86_400_000]) {
    const seconds = secondsForMs(ms);
    assert.ok((seconds - 1) * 1000 >= ms, `${ms} ms: the shortest life (${seconds - 1} s) is not shorter`);
    assert.ok(seconds * 1000 - ms < 2000, `${ms} ms: lives less than 2 s longer`);
  }
  for (const bad of [0, -1500, Number.NaN, Number.POSITIVE_INFINITY])
    assert.throws(() => secondsForMs(bad), RangeError);
});
