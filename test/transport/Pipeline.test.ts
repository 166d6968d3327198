// Byte-scripted rules of the pipeline: scripted reply bytes, a scripted clock, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeKey } from '../../src/protocol/KeyEncoder.js';
import type { MetaResponse } from '../../src/protocol/MetaResponse.js';
import { type MetaGetFlags, metaGet, metaNoop } from '../../src/protocol/RequestEncoder.js';
import { Request, RequestKind, reserveOpaques } from '../../src/transport/Request.js';
import { ScriptedPipeline } from './scripted.js';

describe('Pipeline: matching replies', () => {
  it('holds user requests until the handshake is done, then writes them in order', () => {
    const p = new ScriptedPipeline();
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    const a = p.get('a');
    assert.deepEqual(p.written, ['version\r\n', 'mn\r\n']);
    p.pipeline.markConnected();
    p.reply('VERSION 1.6.18\r\nMN\r\n');
    assert.equal(p.pipeline.isReady, true);
    assert.equal(p.pipeline.serverVersion, '1.6.18');
    assert.match(p.written[2]!, /^mg a v O\d+/);
    p.reply(`VA 1 O${a.opaque}\r\nx\r\n`);
    assert.equal((a.outcome.value as MetaResponse).value?.toString(), 'x');
  });

  it('tells the writer a request is alone when nothing else is in flight, so it goes out at once', () => {
    const p = new ScriptedPipeline();
    p.handshake();
    const from = p.alone.length;
    const a = p.get('a');
    const b = p.get('b');
    p.reply(`HD O${a.opaque}\r\n`);
    const c = p.get('c');
    p.reply(`HD O${b.opaque}\r\nHD O${c.opaque}\r\n`);
    p.get('d');
    assert.deepEqual(
      p.alone.slice(from),
      [true, false, false, true],
      'b behind a, c behind b; d on an idle connection',
    );
  });

  it('a reply with the wrong opaque destroys the pipeline: every request fails, none gets the value', () => {
    const p = new ScriptedPipeline();
    p.handshake();
    const a = p.get('a');
    const b = p.get('b');
    p.reply(`VA 3 O${b.opaque}\r\nbad\r\n`);
    assert.equal(a.outcome.error?.code, 'PROTOCOL');
    assert.equal(b.outcome.error?.code, 'PROTOCOL');
    assert.equal(a.outcome.error?.key, 'a');
    assert.equal(b.outcome.error?.key, 'b');
    assert.equal(p.closed?.evidence, false, 'a desync is not evidence that the server is down');
  });

  it('SERVER_ERROR fails only its request; the next one is answered on the same pipeline', () => {
    const p = new ScriptedPipeline();
    p.handshake();
    const a = p.get('a');
    const b = p.get('b');
    p.reply(`SERVER_ERROR out of memory\r\nEN\r\n`.replace('EN', `EN O${b.opaque}`));
    assert.equal(a.outcome.error?.code, 'SERVER_ERROR');
    assert.match(a.outcome.error!.message, /out of memory/);
    assert.equal((b.outcome.value as MetaResponse).opaque, b.opaque);
    assert.equal(p.pipeline.isClosed, false);
  });

  it('a value larger than the reader limit fails only its read, naming its key; the stream stays in step', () => {
    const p = new ScriptedPipeline(1000, 10);
    p.handshake();
    const big = p.get('big:k');
    const small = p.get('small');
    p.reply(`VA 25 O${big.opaque}\r\n${'z'.repeat(25)}\r\nVA 2 O${small.opaque}\r\nok\r\n`);
    assert.equal(big.outcome.error?.name, 'ValueTooLargeError');
    assert.equal(big.outcome.error?.key, 'big:k');
    assert.match(big.outcome.error!.message, /25 bytes/);
    assert.equal((small.outcome.value as MetaResponse).value?.toString(), 'ok');
    assert.equal(p.pipeline.isClosed, false);
  });

  it('a batch with an oversize hit fails with ValueTooLargeError naming that key', () => {
    const p = new ScriptedPipeline(1000, 10);
    p.handshake();
    const first = reserveOpaques(3);
    const keys = ['k0', 'k1', 'k2'];
    const payload =
      keys.map((k, i) => metaGet(encodeKey(k, 250), ' v q' as MetaGetFlags, first + i)).join('') + metaNoop();
    const batch = new Request(RequestKind.Batch, payload, null, first, 3);
    batch.key = 'k0';
    batch.keys = keys;
    batch.collected = new Array(3);
    const outcome = p.enqueue(batch);
    p.reply(`VA 1 O${first}\r\na\r\nVA 20 O${first + 2}\r\n${'y'.repeat(20)}\r\nMN\r\n`);
    assert.equal(outcome.error?.name, 'ValueTooLargeError');
    assert.equal(outcome.error?.key, 'k2');
    assert.equal(p.pipeline.isClosed, false);
  });

  it('"ERROR Too many open connections" during the handshake is a ServerError saying so, unsent requests handed back', () => {
    const p = new ScriptedPipeline();
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    const a = p.get('a');
    p.pipeline.markConnected();
    p.reply('ERROR Too many open connections\r\n');
    assert.equal(p.closed?.error.code, 'SERVER_ERROR');
    assert.match(p.closed!.error.message, /refused the connection: Too many open connections/);
    assert.equal(p.closed?.evidence, true);
    assert.deepEqual(
      p.closed?.unsent.map((r) => r.key),
      ['a'],
      'the never-sent request goes back to the pool',
    );
    assert.equal(a.outcome.error, undefined, 'not rejected: the pool decides where it goes');
  });
});

describe('Pipeline: judging the server', () => {
  it('a written request unanswered for request_timeout while our loop is responsive: stuck, evidence', () => {
    const p = new ScriptedPipeline(300);
    p.handshake();
    const a = p.get('a');
    p.clock.advance(299);
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(2);
    assert.equal(p.closed?.evidence, true);
    assert.equal(p.closed?.error.code, 'TIMEOUT');
    assert.match(p.closed!.error.message, /did not answer within 300 ms \(request_timeout\)/);
    assert.equal(a.outcome.error?.code, 'TIMEOUT');
    assert.equal(a.outcome.error?.key, 'a');
  });

  it('a reply that arrived during our stall is delivered, not timed out, and nothing counts against the server', () => {
    const p = new ScriptedPipeline(1000);
    p.handshake();
    const a = p.get('a');
    // Blocked for 1.5 s; the reply sat in the socket meanwhile and is read in the poll after it.
    p.clock.stall(1500, () => p.reply(`EN O${a.opaque}\r\n`));
    assert.equal(p.pipeline.isClosed, false);
    assert.equal((a.outcome.value as MetaResponse).opaque, a.opaque);
  });

  it('a timer that fired late (our stall) does not judge the server even when nothing arrived', () => {
    const p = new ScriptedPipeline(1000);
    p.handshake();
    p.get('a');
    p.clock.stall(1500);
    assert.equal(p.pipeline.isClosed, false, 'our stall is not the server being stuck');
    // Measured afresh from the end of the stall: a server still silent a full request_timeout later is stuck.
    p.clock.advance(999);
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(2);
    assert.equal(p.closed?.evidence, true);
  });

  it('a stream whose replies each come within request_timeout is not stuck, however long it runs', () => {
    const p = new ScriptedPipeline(1000);
    p.handshake();
    // Five in flight, a new request and a reply every 100 ms: each waits 500 ms, for 30 s in all.
    const gets = Array.from({ length: 5 }, (_, i) => p.get(`k${i}`));
    for (let i = 5; i < 300; i++) {
      const head = gets[i - 5]!;
      p.clock.advance(100, () => p.reply(`EN O${head.opaque}\r\n`));
      gets.push(p.get(`k${i}`));
    }
    assert.equal(p.pipeline.isClosed, false);
    assert.ok(gets.slice(0, 295).every((g) => g.outcome.value !== undefined));
  });

  it('settled requests keep their place: a late reply is consumed, the next one matched', () => {
    const p = new ScriptedPipeline(1000);
    p.handshake();
    const a = p.get('a');
    const b = p.get('b');
    a.request.settled = true; // the caller timed out or aborted
    p.reply(`EN O${a.opaque}\r\nVA 1 O${b.opaque}\r\nv\r\n`);
    assert.equal(a.outcome.value, undefined);
    assert.equal((b.outcome.value as MetaResponse).value?.toString(), 'v');
  });

  it('the handshake is judged once the socket connected, not before', () => {
    const p = new ScriptedPipeline(200);
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    p.clock.advance(5000);
    assert.equal(p.pipeline.isClosed, false, 'the connect timeout, not request_timeout, bounds connecting');
    p.pipeline.markConnected();
    p.clock.advance(201);
    assert.equal(p.closed?.error.code, 'TIMEOUT');
    assert.equal(p.closed?.evidence, true);
  });
});

describe('Pipeline: a starved process still notices a dead server', () => {
  it('through repeated stalls of our loop, a server silent for 3 request_timeouts is stuck', () => {
    const p = new ScriptedPipeline(300);
    p.handshake();
    p.get('a');
    p.clock.stall(400); // late timer: our stall, the server's clock restarts
    assert.equal(p.pipeline.isClosed, false);
    p.clock.stall(400);
    assert.equal(p.pipeline.isClosed, false);
    p.clock.stall(400); // 1,200 ms of real silence ≥ 3 × 300 ms
    assert.equal(p.closed?.evidence, true);
    assert.equal(p.closed?.error.code, 'TIMEOUT');
  });
});

describe('Pipeline: a settled request is never written (requestSent: false is a promise)', () => {
  it('a request whose caller gave up while it was held for the handshake is dropped, not written', () => {
    const p = new ScriptedPipeline();
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    const a = p.get('a');
    const b = p.get('b');
    p.pipeline.markConnected();
    // The caller's deadline passed (or it aborted) during a slow handshake: told "never sent".
    a.request.settled = true;
    p.reply('VERSION 1.6.18\r\nMN\r\n');
    assert.deepEqual(
      p.written.filter((line) => line.startsWith('mg ')).map((line) => line.split(' ')[1]),
      ['b'],
      'only the request whose caller still waits is written',
    );
    assert.equal(p.pipeline.inflight, 1, 'the dropped one is no longer queued');
    p.reply(`EN O${b.opaque}\r\n`);
    assert.equal((b.outcome.value as MetaResponse).opaque, b.opaque, 'the stream is in step');
    assert.equal(p.pipeline.inflight, 0);
  });

  it('when every held request was given up, the queue is empty and idle after the handshake', () => {
    const p = new ScriptedPipeline();
    let idle = 0;
    p.pipeline.onIdle(() => idle++);
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    const a = p.get('a');
    p.pipeline.markConnected();
    a.request.settled = true;
    p.reply('VERSION 1.6.18\r\nMN\r\n');
    assert.equal(p.written.length, 2, 'nothing but the handshake was written');
    assert.equal(p.pipeline.inflight, 0);
    assert.ok(idle >= 1, 'the connection is told it is idle (it may unref its socket)');
  });

  it('a request already settled when it is queued (moved from a failed connection) is never written', () => {
    const p = new ScriptedPipeline();
    p.handshake();
    const opaque = reserveOpaques(1);
    const request = new Request(
      RequestKind.Meta,
      metaGet(encodeKey('late', 250), ' v' as MetaGetFlags, opaque),
      null,
      opaque,
      0,
    );
    request.settled = true;
    p.enqueue(request);
    assert.equal(p.written.length, 2);
    assert.equal(p.pipeline.inflight, 0);
  });
});

describe('Pipeline: a slow server is judged (bytes trickling in do not reset it forever)', () => {
  it('the oldest request unanswered 2 × request_timeout after it was written, bytes arriving all along: too slow, evidence', () => {
    const p = new ScriptedPipeline(500);
    p.handshake();
    const a = p.get('a');
    const b = p.get('b');
    const reply = `VA 5 O${a.opaque}\r\nhello\r\n`;
    // One byte every 100 ms: never silent for request_timeout.
    for (let i = 0; i < 9; i++) p.clock.advance(100, () => p.reply(reply[i]!));
    assert.equal(p.pipeline.isClosed, false, 'at 900 ms: not yet');
    p.clock.advance(100, () => p.reply(reply[9]!));
    assert.equal(p.closed?.evidence, true, 'a server too slow for request_timeout is failing');
    assert.equal(p.closed?.error.code, 'TIMEOUT');
    assert.equal(p.closed?.error.details?.slow, true);
    assert.equal(p.closed?.error.details?.cause, 'server');
    assert.match(p.closed!.error.message, /answers too slowly: a request written 1000 ms ago/);
    assert.equal(a.outcome.error?.code, 'TIMEOUT');
    assert.equal(b.outcome.error?.key, 'b');
    assert.equal(b.outcome.error?.details?.requestSent, undefined, 'written: it may have been applied');
  });

  it('a slow handshake (bytes trickling) is judged the same way', () => {
    const p = new ScriptedPipeline(500);
    p.internal(RequestKind.Version, 'version\r\n');
    p.internal(RequestKind.Noop, 'mn\r\n');
    p.get('a');
    p.pipeline.markConnected();
    const reply = 'VERSION 1.6.18\r\nMN\r\n';
    for (let i = 0; i < 10 && !p.pipeline.isClosed; i++) p.clock.advance(100, () => p.reply(reply[i]!));
    assert.equal(p.closed?.evidence, true);
    assert.equal(p.closed?.error.details?.slow, true);
    assert.deepEqual(
      p.closed?.unsent.map((r) => r.key),
      ['a'],
      'the held request was never written: the pool may send it elsewhere',
    );
  });

  it('our own stall is not the server being slow: the 2 × request_timeout is measured from its end', () => {
    const p = new ScriptedPipeline(500);
    p.handshake();
    const a = p.get('a');
    p.clock.advance(400, () => p.reply('V'));
    p.clock.stall(700, () => p.reply('A'));
    assert.equal(p.pipeline.isClosed, false, 'the late timer was our stall');
    p.clock.advance(900, () => p.reply(' '));
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(150, () => p.reply('1'));
    assert.equal(p.closed?.error.details?.slow, true);
    assert.equal(a.outcome.error?.code, 'TIMEOUT');
  });
});

describe('Pipeline: a saturated loop of ours is not the server being slow', () => {
  it('timers on time but our loop ~100 % busy (reading a burst of replies): the 2 × request_timeout restarts', () => {
    const p = new ScriptedPipeline(500);
    p.handshake();
    const a = p.get('a');
    p.clock.busy = 0.95;
    for (let i = 0; i < 10; i++) p.clock.advance(100, () => p.reply('V'));
    assert.equal(p.pipeline.isClosed, false, 'our loop could not read: not judged');
    p.clock.busy = 0;
    for (let i = 0; i < 9; i++) p.clock.advance(100, () => p.reply('A'));
    assert.equal(p.pipeline.isClosed, false);
    p.clock.advance(101, () => p.reply(' '));
    assert.equal(p.closed?.error.details?.slow, true, 'responsive again for 2 × request_timeout: judged');
    assert.equal(a.outcome.error?.code, 'TIMEOUT');
  });

  it('a server too slow through 3 × 2 request_timeouts of our saturation is judged anyway', () => {
    const p = new ScriptedPipeline(500);
    p.handshake();
    p.get('a');
    p.clock.busy = 1;
    for (let i = 0; i < 29 && !p.pipeline.isClosed; i++) p.clock.advance(100, () => p.reply('V'));
    assert.equal(p.pipeline.isClosed, false);
    for (let i = 0; i < 10 && !p.pipeline.isClosed; i++) p.clock.advance(100, () => p.reply('A'));
    assert.equal(p.closed?.error.details?.slow, true);
  });
});
