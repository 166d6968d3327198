// What may wait on one connection is bounded: written requests whose callers gave up (a timeout,
// an abort) stay queued for their replies, to keep the stream in step; past `maxAbandoned` the
// connection is replaced instead of growing forever. Scripted bytes and clock, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abandon, RequestKind } from '../../src/transport/Request.js';
import { ScriptedPipeline } from './scripted.js';

describe('Pipeline: abandoned requests are bounded', () => {
  it('past maxAbandoned the connection is replaced; the written requests still waited for fail, honestly "maybe sent"', () => {
    const p = new ScriptedPipeline(1000, 1024, 3);
    p.handshake();
    const gets = Array.from({ length: 5 }, (_, i) => p.get(`k${i}`));
    for (const g of gets.slice(0, 3)) abandon(g.request);
    assert.equal(p.pipeline.abandonedWaiting, 3);
    assert.equal(p.pipeline.isClosed, false, 'three may wait');
    abandon(gets[3]!.request);
    assert.equal(p.pipeline.isClosed, true, 'the fourth is one too many');
    assert.equal(p.closed?.error.code, 'CONNECTION');
    assert.match(p.closed!.error.message, /4 requests whose callers gave up are still unanswered/);
    assert.equal(p.closed?.evidence, false, 'no request is overdue: not evidence against the server');
    assert.equal(gets[4]!.outcome.error?.key, 'k4');
    assert.equal(gets[4]!.outcome.error?.details?.requestSent, undefined);
  });

  it('when the oldest request is overdue too, replacing the connection is evidence against the server', () => {
    const p = new ScriptedPipeline(1000, 1024, 2);
    p.handshake();
    const gets = Array.from({ length: 3 }, (_, i) => p.get(`k${i}`));
    // Bytes trickle in, so the server is not silent; the callers time out.
    p.clock.advance(600, () => p.reply('V'));
    p.clock.advance(600, () => p.reply('A'));
    for (const g of gets) abandon(g.request);
    assert.equal(p.closed?.evidence, true);
    assert.equal(p.closed?.error.details?.cause, 'server');
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
