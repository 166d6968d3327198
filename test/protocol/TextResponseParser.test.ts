import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ProtocolError } from '../../src/component/errors.js';
import { type TextReply, TextStatus } from '../../src/protocol/TextReply.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';

const S = TextStatus;

/** A reply as plain data, so deepEqual compares what was parsed, not object identity. */
interface PlainValue {
  key: string;
  flags: number;
  cas: string;
  value: string | null;
  oversize: number;
}
interface Plain {
  status: number;
  values: PlainValue[] | null;
  number: bigint;
  text: string;
}

function plain(r: TextReply): Plain {
  return {
    status: r.status,
    values:
      r.values?.map((v) => ({
        key: v.key,
        flags: v.clientFlags,
        cas: v.cas,
        value: v.value === null ? null : v.value.toString('latin1'),
        oversize: v.oversizeBytes,
      })) ?? null,
    number: r.number,
    text: r.text,
  };
}

function want(status: number, fields: Partial<Plain> = {}): Plain {
  return { status, values: status === S.Values ? [] : null, number: -1n, text: '', ...fields };
}

function val(key: string, value: string | null, flags = 0, cas = '', oversize = -1): PlainValue {
  return { key, flags, cas, value, oversize };
}

interface Recording {
  parser: TextResponseParser;
  replies: Plain[];
  errors: ProtocolError[];
}

function recorder(maxValueBytes?: number): Recording {
  const replies: Plain[] = [];
  const errors: ProtocolError[] = [];
  const parser = new TextResponseParser(
    { onReply: (r) => replies.push(plain(r)), onError: (e) => errors.push(e) },
    maxValueBytes,
  );
  return { parser, replies, errors };
}

/** Feeds `bytes` cut at the given offsets (sorted, deduplicated, in range). */
function feedSplit(parser: TextResponseParser, bytes: Buffer, cuts: readonly number[] = []): void {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  let from = 0;
  for (const cut of points) {
    parser.feed(bytes.subarray(from, cut));
    from = cut;
  }
  parser.feed(bytes.subarray(from));
}

function parseAll(bytes: Buffer | string, cuts: readonly number[] = [], maxValueBytes?: number): Recording {
  const recording = recorder(maxValueBytes);
  feedSplit(recording.parser, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, cuts);
  return recording;
}

function parsesTo(wire: string, ...expected: Plain[]): void {
  const { replies, errors, parser } = parseAll(wire);
  assert.deepEqual(errors, []);
  assert.deepEqual(replies, expected);
  assert.equal(parser.hasPartial, false);
}

function fails(wire: string, message: RegExp): void {
  const { errors, parser } = parseAll(wire);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'PROTOCOL');
  assert.match(errors[0]!.message, message);
  assert.equal(parser.isStopped, true);
}

describe('TextResponseParser: each reply', () => {
  test('storage, delete and touch replies', () => {
    parsesTo(
      'STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\nOK\r\n',
      want(S.Stored),
      want(S.NotStored),
      want(S.Exists),
      want(S.NotFound),
      want(S.Deleted),
      want(S.Touched),
      want(S.Ok),
    );
  });

  test('incr/decr: the new value as a bigint, up to 2^64 − 1', () => {
    parsesTo(
      '0\r\n42\r\n18446744073709551615\r\n',
      want(S.Number, { number: 0n }),
      want(S.Number, { number: 42n }),
      want(S.Number, { number: 2n ** 64n - 1n }),
    );
  });

  test('VERSION and the error lines keep their text', () => {
    parsesTo(
      'VERSION 1.6.18\r\nERROR\r\nERROR Too many open connections\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR Connection refused\r\n',
      want(S.Version, { text: '1.6.18' }),
      want(S.Error),
      want(S.Error, { text: 'Too many open connections' }),
      want(S.ClientError, { text: 'bad data chunk' }),
      want(S.ServerError, { text: 'Connection refused' }),
    );
  });

  test('a get that missed every key: END alone is one empty reply', () => {
    parsesTo('END\r\nEND\r\n', want(S.Values), want(S.Values));
  });

  test('get: the VALUE blocks up to END are one reply', () => {
    parsesTo(
      'VALUE a 0 3\r\nabc\r\nVALUE b:1 4294967295 0\r\n\r\nEND\r\nSTORED\r\n',
      want(S.Values, { values: [val('a', 'abc'), val('b:1', '', 4294967295)] }),
      want(S.Stored),
    );
  });

  test('gets: the CAS unique, as decimal text up to 2^64 − 1', () => {
    parsesTo(
      'VALUE k 5 2 18446744073709551615\r\nhi\r\nEND\r\n',
      want(S.Values, { values: [val('k', 'hi', 5, '18446744073709551615')] }),
    );
  });

  test('a data block is opaque bytes: CRLF, "END" and "VALUE" inside it are data', () => {
    const data = '\r\nEND\r\nVALUE x 0 1\r\n';
    parsesTo(`VALUE k 0 ${data.length}\r\n${data}\r\nEND\r\n`, want(S.Values, { values: [val('k', data)] }));
  });

  test('binary data round-trips byte for byte', () => {
    const data = Buffer.from([0, 255, 13, 10, 128, 32]);
    const wire = Buffer.concat([
      Buffer.from(`VALUE k 0 ${data.length}\r\n`),
      data,
      Buffer.from('\r\nEND\r\n'),
    ]);
    const values: Buffer[] = [];
    const parser = new TextResponseParser({
      onReply: (r) => values.push(r.values![0]!.value!),
      onError: (e) => assert.fail(e),
    });
    parser.feed(wire);
    assert.deepEqual(values, [data]);
  });

  test('hasPartial while a get reply is open, until its END', () => {
    const { parser, replies } = parseAll('VALUE k 0 1\r\nx\r\n');
    assert.equal(replies.length, 0);
    assert.equal(parser.hasPartial, true);
    parser.feed(Buffer.from('END\r\n'));
    assert.equal(replies.length, 1);
    assert.equal(parser.hasPartial, false);
  });
});

describe('TextResponseParser: the value-size limit', () => {
  test('a value over the limit is skipped and reported for its key only', () => {
    const big = 'x'.repeat(11);
    const { replies, errors } = parseAll(
      `VALUE a 0 3\r\nabc\r\nVALUE big 7 11 9\r\n${big}\r\nVALUE c 0 10\r\n${'y'.repeat(10)}\r\nEND\r\nSTORED\r\n`,
      [],
      10,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(replies, [
      want(S.Values, {
        values: [val('a', 'abc'), val('big', null, 7, '9', 11), val('c', 'y'.repeat(10))],
      }),
      want(S.Stored),
    ]);
  });

  test('a skipped block must still end with CRLF, wherever the chunks split it', () => {
    for (let cut = 1; cut < 30; cut++) {
      const { errors } = parseAll('VALUE big 0 11\r\nxxxxxxxxxxxXY', [cut], 10);
      assert.equal(errors.length, 1, `cut at ${cut}`);
      assert.match(errors[0]!.message, /not followed by CRLF/);
    }
  });

  test('a size beyond any sane value fails the stream', () => {
    fails('VALUE k 0 9999999999\r\n', /VALUE line is malformed/);
  });
});

describe('TextResponseParser: malformed input fails the stream once', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown line', 'HELLO\r\n', /unexpected reply line was received: "HELLO"/],
    ['a meta reply', 'HD\r\n', /unexpected reply line/],
    ['a bare LF', 'STORED\n', /does not end with CRLF/],
    ['a data block without CRLF', 'VALUE k 0 1\r\nxy\r\nEND\r\n', /not followed by CRLF/],
    ['flags above 32 bits', 'VALUE k 4294967296 1\r\nx\r\nEND\r\n', /VALUE line is malformed/],
    ['a negative size', 'VALUE k 0 -1\r\n', /VALUE line is malformed/],
    ['a missing size', 'VALUE k 0\r\n', /VALUE line is malformed/],
    ['a CAS above 64 bits', 'VALUE k 0 1 18446744073709551616\r\nx\r\nEND\r\n', /VALUE line is malformed/],
    ['extra fields', 'VALUE k 0 1 2 3\r\nx\r\nEND\r\n', /VALUE line is malformed/],
    ['a number above 64 bits', '18446744073709551616\r\n', /unexpected reply line/],
    [
      'an error line inside a get reply',
      'VALUE k 0 1\r\nx\r\nSERVER_ERROR out of memory\r\n',
      /inside a get reply/,
    ],
    ['a single-line reply inside a get reply', 'VALUE k 0 1\r\nx\r\nSTORED\r\n', /inside a get reply/],
    ['a line over 8 KB', `VERSION ${'x'.repeat(9000)}`, /longer than 8 KB/],
  ];
  for (const [name, wire, message] of cases) {
    test(name, () => fails(wire, message));
  }

  test('after a failure nothing more is reported', () => {
    const { parser, replies, errors } = parseAll('STORED\r\nBOGUS\r\nSTORED\r\n');
    assert.equal(replies.length, 1);
    parser.feed(Buffer.from('STORED\r\n'));
    assert.equal(replies.length, 1);
    assert.equal(errors.length, 1);
  });

  test('stop() from inside a callback ends parsing at once', () => {
    const replies: TextReply[] = [];
    const parser: TextResponseParser = new TextResponseParser({
      onReply: (r) => {
        replies.push(r);
        parser.stop();
      },
      onError: (e) => assert.fail(e),
    });
    parser.feed(Buffer.from('STORED\r\nSTORED\r\nEND\r\n'));
    assert.equal(replies.length, 1);
  });
});

// --- Properties --------------------------------------------------------------------------------

const keyArb = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
const dataArb = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const casArb = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);

interface Sample {
  wire: Buffer;
  want: Plain;
}

const LIMIT = 24;

const valueBlockArb = fc
  .tuple(keyArb, fc.integer({ min: 0, max: 2 ** 32 - 1 }), dataArb, fc.option(casArb, { nil: undefined }))
  .map(([key, flags, data, cas]) => ({
    wire: Buffer.concat([
      Buffer.from(`VALUE ${key} ${flags} ${data.length}${cas === undefined ? '' : ` ${cas}`}\r\n`),
      data,
      Buffer.from('\r\n'),
    ]),
    want: val(
      key,
      data.length > LIMIT ? null : data.toString('latin1'),
      flags,
      cas ?? '',
      data.length > LIMIT ? data.length : -1,
    ),
  }));

const sampleArb: fc.Arbitrary<Sample> = fc.oneof(
  fc.array(valueBlockArb, { maxLength: 5 }).map((blocks) => ({
    wire: Buffer.concat([...blocks.map((b) => b.wire), Buffer.from('END\r\n')]),
    want: want(S.Values, { values: blocks.map((b) => b.want) }),
  })),
  fc
    .constantFrom(
      ['STORED', S.Stored],
      ['NOT_STORED', S.NotStored],
      ['EXISTS', S.Exists],
      ['NOT_FOUND', S.NotFound],
      ['DELETED', S.Deleted],
      ['TOUCHED', S.Touched],
      ['ERROR', S.Error],
    )
    .map(([line, status]) => ({ wire: Buffer.from(`${line}\r\n`), want: want(status as number) })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => ({
    wire: Buffer.from(`${n}\r\n`),
    want: want(S.Number, { number: n }),
  })),
  fc
    .tuple(
      fc.constantFrom(
        ['VERSION', S.Version],
        ['CLIENT_ERROR', S.ClientError],
        ['SERVER_ERROR', S.ServerError],
      ),
      fc.stringMatching(/^[\x20-\x7e]{1,30}$/),
    )
    .map(([[word, status], text]) => ({
      wire: Buffer.from(`${word} ${text}\r\n`),
      want: want(status as number, { text }),
    })),
);

describe('TextResponseParser properties', () => {
  test('any split of a reply stream gives the same replies as the whole stream', () => {
    fc.assert(
      fc.property(
        fc.array(sampleArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (samples, rawCuts) => {
          const wire = Buffer.concat(samples.map((s) => s.wire));
          const cuts = rawCuts.map((c) => c % (wire.length + 1));
          const whole = parseAll(wire, [], LIMIT);
          const split = parseAll(wire, cuts, LIMIT);
          assert.deepEqual(whole.errors, []);
          assert.deepEqual(split.errors, []);
          assert.deepEqual(
            whole.replies,
            samples.map((s) => s.want),
          );
          assert.deepEqual(split.replies, whole.replies);
          assert.equal(split.parser.hasPartial, false);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('byte by byte gives the same replies too', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 4 }), (samples) => {
        const wire = Buffer.concat(samples.map((s) => s.wire));
        const cuts = Array.from({ length: wire.length }, (_, i) => i);
        assert.deepEqual(
          parseAll(wire, cuts, LIMIT).replies,
          samples.map((s) => s.want),
        );
      }),
      { numRuns: 100 },
    );
  });

  test('a large value fed in many small chunks is copied in O(n)', () => {
    const size = 4 * 1024 * 1024;
    const data = Buffer.alloc(size, 7);
    const wire = Buffer.concat([Buffer.from(`VALUE big 0 ${size}\r\n`), data, Buffer.from('\r\nEND\r\n')]);
    const { parser, replies } = recorder();
    const started = performance.now();
    for (let from = 0; from < wire.length; from += 1024) parser.feed(wire.subarray(from, from + 1024));
    const elapsed = performance.now() - started;
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.values![0]!.value!.length, size);
    // Quadratic copying (4,096 chunks × a growing 4 MB buffer) would take seconds.
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });
});
