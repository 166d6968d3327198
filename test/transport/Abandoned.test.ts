// What may wait on one connection is bounded: written requests whose callers gave up (a timeout,
// an abort) stay queued for their replies, to keep the stream in step; past `maxAbandoned` a
// connection whose oldest request waited one request_timeout (our loop responsive) is replaced
// instead of growing forever. Scripted bytes and clock, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abandon, RequestKind } from '../../src/transport/Request.js';
import { ScriptedPipeline } from './scripted.js';

describe('Pipeline: abandoned requests are bounded', () => {
  it('past maxAbandoned, a connection whose oldest request waited one request_timeout is replaced (not two): evidence', () => {
    const p = new ScriptedPipeline(1000, 1024, 3);
    p.handshake();
    const gets = Array.from({ length: 5 }, (_, i) => p.get(`k${i}`));
    // Bytes trickle in, so the server is never silent for request_timeout.
    p.clock.advance(600, () => p.reply('V'));
    for (const g of gets.slice(0, 4)) abandon(g.request);
    assert.equal(p.pipeline.abandonedWaiting, 4);
    assert.equal(p.pipeline.isClosed, false, 'the oldest has waited 600 ms: still within request_timeout');
    p.clock.advance(399, () => p.reply('A'));
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(2);
    assert.equal(p.pipeline.isClosed, true, 'one request_timeout with four abandoned (> 3): replaced');
    assert.equal(p.closed?.evidence, true);
    assert.equal(p.closed?.error.code, 'TIMEOUT');
    assert.equal(p.closed?.error.details?.abandoned, 4);
    assert.equal(p.closed?.error.details?.slow, true);
    assert.match(
      p.closed!.error.message,
      /not keeping up: 4 requests whose callers gave up are still unanswered/,
    );
    assert.equal(gets[4]!.outcome.error?.key, 'k4');
    assert.equal(
      gets[4]!.outcome.error?.details?.requestSent,
      undefined,
      'written: it may have been applied',
    );
  });

  it('within maxAbandoned the same trickle is judged only at 2 × request_timeout', () => {
    const p = new ScriptedPipeline(1000, 1024, 10);
    p.handshake();
    const gets = Array.from({ length: 5 }, (_, i) => p.get(`k${i}`));
    for (const g of gets.slice(0, 4)) abandon(g.request);
    for (let t = 0; t < 19; t++) p.clock.advance(100, () => p.reply('V'));
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(101, () => p.reply('A'));
    assert.equal(p.closed?.error.details?.slow, true);
    assert.equal(p.closed?.error.details?.abandoned, undefined);
  });

  it('a pile the server answers within request_timeout (our own burst) is left alone', () => {
    const p = new ScriptedPipeline(1000, 1024, 3);
    p.handshake();
    const gets = Array.from({ length: 20 }, (_, i) => p.get(`k${i}`));
    for (const g of gets) abandon(g.request);
    // Answered 900 ms after being written: late for the callers, not for the server.
    p.clock.advance(900, () => p.reply(gets.map((g) => `EN O${g.opaque}\r\n`).join('')));
    assert.equal(p.pipeline.isClosed, false);
    assert.equal(p.pipeline.abandonedWaiting, 0);
    assert.equal(p.pipeline.inflight, 0);
  });

  it('abandoned requests whose replies arrive leave the count: a healthy server never trips the bound', () => {
    const p = new ScriptedPipeline(1000, 1024, 3);
    p.handshake();
    for (let round = 0; round < 100; round++) {
      const gets = Array.from({ length: 3 }, (_, i) => p.get(`r${round}:${i}`));
      for (const g of gets) abandon(g.request);
      p.reply(gets.map((g) => `EN O${g.opaque}\r\n`).join(''));
      assert.equal(p.pipeline.abandonedWaiting, 0);
    }
    assert.equal(p.pipeline.isClosed, false);
  });

  it('a request abandoned before it was written does not count (it is dropped, never written)', () => {
    const p = new ScriptedPipeline(1000, 1024, 1);
    p.internal(RequestKind.Version, 'version\r\n');
    const held = Array.from({ length: 5 }, (_, i) => p.get(`h${i}`));
    for (const g of held) abandon(g.request);
    assert.equal(p.pipeline.abandonedWaiting, 0);
    assert.equal(p.pipeline.isClosed, false);
  });
});
