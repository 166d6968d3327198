import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELATIVE_TTL_LIMIT_SECONDS, wireTtl } from '../../src/protocol/TtlEncoder.js';

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
