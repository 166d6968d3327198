// Byte-scripted rules of the pipeline in text mode (protocol 'text', for proxies) and of a
// handshake step sent after user requests were queued: scripted reply bytes, a scripted clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemcachedCacheError } from '../../src/component/errors.js';
import { metaNoop, versionCommand } from '../../src/protocol/RequestEncoder.js';
import type { TextReply, TextValue } from '../../src/protocol/TextReply.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';
import { Pipeline } from '../../src/transport/Pipeline.js';
import { Request, RequestKind, reserveOpaques } from '../../src/transport/Request.js';
import { type Outcome, recordOutcome, ScriptedClock, ScriptedPipeline } from './scripted.js';

/** A text-mode pipeline: ready after `version`, replies parsed by the text parser. */
class TextPipeline {
  readonly clock = new ScriptedClock();
  readonly written: string[] = [];
  readonly pipeline: Pipeline;
  private readonly parser: TextResponseParser;
  closed: { error: MemcachedCacheError; evidence: boolean } | null = null;

  constructor(maxValueBytes = 1024) {
    this.pipeline = new Pipeline(
      'proxy:22121',
      {
        append: (payload, data) =>
          this.written.push(String(payload) + (data ? `${data.toString('latin1')}\r\n` : '')),
      },
      { requestTimeoutMs: 1000, clock: this.clock, readyAfter: RequestKind.Version },
    );
    this.parser = new TextResponseParser(this.pipeline, maxValueBytes);
    this.pipeline.onClose((error, evidence) => {
      this.closed = { error, evidence };
    });
  }

  handshake(): void {
    const version = new Request(RequestKind.Version, versionCommand(), null, -1, 0);
    version.internal = true;
    this.enqueue(version);
    this.pipeline.markConnected();
    this.reply('VERSION 1.6.18\r\n');
  }

  reply(text: string): void {
    this.pipeline.received();
    this.parser.feed(Buffer.from(text, 'latin1'));
  }

  request(kind: RequestKind, line: string, data: string | null = null, keys: string[] | null = null) {
    const request = new Request(kind, line, data === null ? null : Buffer.from(data), -1, 0);
    request.key = keys?.[0] ?? line.split(' ')[1]?.trim();
    if (keys !== null) {
      request.opaque = reserveOpaques(keys.length);
      request.count = keys.length;
      request.keys = keys;
      request.collected = new Array(keys.length);
    }
    return { request, outcome: this.enqueue(request) };
  }

  private enqueue(request: Request): Outcome {
    const outcome = recordOutcome(request);
    this.pipeline.enqueue(request);
    return outcome;
  }
}

describe('Pipeline, text protocol', () => {
  it('is ready after VERSION alone; held requests are written then, and matched by order', () => {
    const p = new TextPipeline();
    const set = p.request(RequestKind.Text, 'set a 0 0 1\r\n', 'x');
    const get = p.request(RequestKind.TextGet, 'gets a\r\n');
    assert.deepEqual(p.written, []);
    p.handshake();
    assert.deepEqual(p.written, ['version\r\n', 'set a 0 0 1\r\nx\r\n', 'gets a\r\n']);
    p.reply('STORED\r\nVALUE a 0 1 7\r\nx\r\nEND\r\n');
    assert.equal((set.outcome.value as TextReply).status, 2);
    const value = get.outcome.value as TextValue;
    assert.deepEqual([value.key, value.value?.toString(), value.cas], ['a', 'x', '7']);
  });

  it('a multi-get reply is placed by key, whatever order the proxy gathered it in; misses stay empty', () => {
    const p = new TextPipeline();
    p.handshake();
    const many = p.request(RequestKind.TextGet, 'gets a b c\r\n', null, ['a', 'b', 'c']);
    p.reply('VALUE c 0 2 3\r\ncc\r\nVALUE a 0 2 1\r\naa\r\nEND\r\n');
    const values = many.outcome.value as Array<TextValue | undefined>;
    assert.equal(values[0]?.value?.toString(), 'aa');
    assert.equal(values[1], undefined);
    assert.equal(values[2]?.value?.toString(), 'cc');
  });

  it('a VALUE for a key nobody asked for is a desync: every request fails, none gets a value', () => {
    const p = new TextPipeline();
    p.handshake();
    const one = p.request(RequestKind.TextGet, 'gets a\r\n');
    const many = p.request(RequestKind.TextGet, 'gets b c\r\n', null, ['b', 'c']);
    p.reply('VALUE zzz 0 3\r\nbad\r\nEND\r\n');
    assert.equal(one.outcome.error?.code, 'PROTOCOL');
    assert.equal(many.outcome.error?.code, 'PROTOCOL');
    assert.equal(p.closed?.evidence, false);
  });

  it('two values for a one-key get, or a value for a set, are desyncs too', () => {
    for (const [kind, line, reply] of [
      [RequestKind.TextGet, 'gets a\r\n', 'VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\ny\r\nEND\r\n'],
      [RequestKind.Text, 'delete a\r\n', 'VALUE a 0 1\r\nx\r\nEND\r\n'],
      [RequestKind.TextGet, 'gets a\r\n', 'STORED\r\n'],
    ] as const) {
      const p = new TextPipeline();
      p.handshake();
      const r = p.request(kind, line);
      p.reply(reply);
      assert.equal(r.outcome.error?.code, 'PROTOCOL', JSON.stringify(reply));
      assert.match(r.outcome.error!.message, /desync/);
    }
  });

  it('an oversize value fails its own multi-get naming that key; the stream stays in step', () => {
    const p = new TextPipeline(4);
    p.handshake();
    const many = p.request(RequestKind.TextGet, 'gets a big\r\n', null, ['a', 'big']);
    const next = p.request(RequestKind.Text, 'delete a\r\n');
    p.reply(`VALUE a 0 1\r\nx\r\nVALUE big 0 10\r\n${'z'.repeat(10)}\r\nEND\r\nDELETED\r\n`);
    assert.equal(many.outcome.error?.name, 'ValueTooLargeError');
    assert.equal(many.outcome.error?.key, 'big');
    assert.equal((next.outcome.value as TextReply).status, 6);
    assert.equal(p.pipeline.isClosed, false);
  });

  it('SERVER_ERROR fails its request alone; CLIENT_ERROR after a data block replaces the connection', () => {
    const p = new TextPipeline();
    p.handshake();
    const big = p.request(RequestKind.Text, 'set a 0 0 1\r\n', 'x');
    const after = p.request(RequestKind.Text, 'delete a\r\n');
    p.reply('SERVER_ERROR object too large for cache\r\nNOT_FOUND\r\n');
    assert.equal(big.outcome.error?.code, 'SERVER_ERROR');
    assert.match(big.outcome.error!.message, /object too large/);
    assert.equal((after.outcome.value as TextReply).status, 5);
    const bad = p.request(RequestKind.Text, 'set a 0 0 1\r\n', 'x');
    const queued = p.request(RequestKind.Text, 'delete a\r\n');
    p.reply('CLIENT_ERROR bad data chunk\r\n');
    assert.equal(bad.outcome.error?.code, 'SERVER_ERROR');
    assert.equal(queued.outcome.error?.code, 'PROTOCOL');
    assert.equal(p.pipeline.isClosed, true);
  });
});

describe('Pipeline, a handshake step sent after user requests were queued', () => {
  it('`mn` sent once VERSION came goes before the held requests, and its MN is not taken for theirs', () => {
    const p = new ScriptedPipeline();
    p.internal(RequestKind.Version, versionCommand());
    const a = p.get('a');
    p.pipeline.markConnected();
    p.reply('VERSION 1.6.18\r\n');
    assert.equal(p.pipeline.isReady, false);
    assert.equal(p.pipeline.inflight, 1, 'the held request still counts as in flight');
    p.internal(RequestKind.Noop, metaNoop());
    p.reply('MN\r\n');
    assert.equal(p.closed, null, `closed: ${p.closed?.error.message}`);
    assert.equal(p.pipeline.isReady, true);
    assert.match(p.written.at(-1)!, /^mg a /);
    p.reply(`EN O${a.opaque}\r\n`);
    assert.equal(a.outcome.error, undefined);
  });

  it('`mn` answered with an error line: UnsupportedServerError naming protocol text, not evidence', () => {
    const p = new ScriptedPipeline();
    p.internal(RequestKind.Version, versionCommand());
    const a = p.get('a');
    p.pipeline.markConnected();
    p.reply('VERSION 1.6.18\r\n');
    p.internal(RequestKind.Noop, metaNoop());
    p.reply('CLIENT_ERROR bad command line format\r\n');
    assert.equal(p.closed?.error.code, 'UNSUPPORTED_SERVER');
    assert.match(p.closed!.error.message, /"CLIENT_ERROR bad command line format"/);
    assert.match(p.closed!.error.message, /protocol: 'text'/);
    assert.equal(p.closed?.evidence, false);
    assert.deepEqual(
      p.closed?.unsent.map((r) => r.key),
      ['a'],
      'the held request was never written: it goes back to the pool unsent',
    );
    assert.equal(a.outcome.error, undefined);
  });
});
