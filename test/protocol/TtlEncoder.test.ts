import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELATIVE_TTL_LIMIT_SECONDS, secondsForMs, wireTtl } from '../../src/protocol/TtlEncoder.js';

const THIRTY_DAYS = 30 * 24 * 60 * 60;
const NOW_MS = 1_700_000_000_987; // the fraction of a second is dropped

test('0 means "never expires" and stays 0', () => {
  assert.equal(wireTtl(0, NOW_MS), 0);
});

test('TTLs up to 30 days go as relative seconds', () => {
  assert.equal(RELATIVE_TTL_LIMIT_SECONDS, 2_592_000);
  assert.equal(wireTtl(1, NOW_MS), 1);
  assert.equal(wireTtl(3600, NOW_MS), 3600);
  assert.equal(wireTtl(THIRTY_DAYS, NOW_MS), THIRTY_DAYS);
});

test('beyond 30 days a TTL becomes an absolute Unix time from the injected now', () => {
  assert.equal(wireTtl(THIRTY_DAYS + 1, NOW_MS), 1_700_000_000 + THIRTY_DAYS + 1);
  assert.equal(wireTtl(365 * 24 * 3600, NOW_MS), 1_700_000_000 + 365 * 24 * 3600);
  assert.equal(wireTtl(THIRTY_DAYS + 1, 0), THIRTY_DAYS + 1 + 0);
});

test('now defaults to the clock', () => {
  const before = Math.floor(Date.now() / 1000);
  const ttl = wireTtl(THIRTY_DAYS + 1);
  const after = Math.floor(Date.now() / 1000);
  assert.ok(ttl >= before + THIRTY_DAYS + 1 && ttl <= after + THIRTY_DAYS + 1);
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
