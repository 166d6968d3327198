import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../src/component/errors.js';
import { metaResponse } from '../../src/protocol/MetaResponse.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import { isErrorStatus, ResponseStatus } from '../../src/protocol/ResponseStatus.js';
import { expected, feedSplit, type Plain, parseAll, plain, recorder } from './collect.js';

const S = ResponseStatus;
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** Parses one complete reply and returns its single response, failing on anything else. */
function one(wire: string): Plain {
  const rec = parseAll(wire);
  assert.deepEqual(rec.errors, []);
  assert.equal(rec.responses.length, 1, `expected exactly one response from ${JSON.stringify(wire)}`);
  assert.equal(rec.parser.hasPartial, false);
  return plain(rec.responses[0]!);
}

/** Feeds `wire` and expects exactly one ProtocolError and nothing else. */
function rejects(wire: string | Buffer, maxValueBytes?: number): ProtocolError {
  const rec = recorder(maxValueBytes);
  rec.parser.feed(typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire);
  assert.equal(rec.responses.length, 0, 'no response before the error');
  assert.equal(rec.errors.length, 1);
  const error = rec.errors[0]!;
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.code, 'PROTOCOL');
  assert.match(error.message, /^Malformed response from server: /);
  assert.equal(rec.parser.isStopped, true);
  assert.equal(rec.parser.hasPartial, false);
  return error;
}

describe('ResponseParser: one reply of each status', () => {
  test('VA with f, c, O and t-1 flags carries the value and decodes every flag', () => {
    assert.deepEqual(
      one('VA 3 f5 c12 O14 t-1\r\nbar\r\n'),
      expected(S.Value, { value: hex('bar'), clientFlags: 5, cas: '12', opaque: 14, ttl: -1 }),
    );
  });

  test('VA 0 is an empty (not null) value', () => {
    const rec = parseAll('VA 0 f0 O3\r\n\r\n');
    assert.equal(rec.responses.length, 1);
    const value = rec.responses[0]!.value;
    assert.ok(Buffer.isBuffer(value));
    assert.equal(value.length, 0);
    assert.deepEqual(plain(rec.responses[0]!), expected(S.Value, { value: '', opaque: 3 }));
  });

  test('VA without flags', () => {
    assert.deepEqual(one('VA 2\r\nhi\r\n'), expected(S.Value, { value: hex('hi') }));
  });

  test('a remaining TTL is a plain number', () => {
    assert.deepEqual(
      one('VA 1 t3600 O1\r\nx\r\n'),
      expected(S.Value, { value: hex('x'), ttl: 3600, opaque: 1 }),
    );
    assert.deepEqual(one('HD t0\r\n'), expected(S.Header, { ttl: 0 }));
  });

  test('a uint64 CAS keeps every digit (as text)', () => {
    assert.deepEqual(
      one('HD c18446744073709551615\r\n'),
      expected(S.Header, { cas: '18446744073709551615' }),
    );
  });

  test('a CAS is kept as the exact text sent, on both sides of the 15 digits read as a number', () => {
    for (const cas of ['1', '999999999999999', '1000000000000000', '9007199254740993', '0', '007']) {
      assert.deepEqual(one(`HD c${cas} O3\r\n`), expected(S.Header, { cas, opaque: 3 }), cas);
    }
    assert.deepEqual(
      one('VA 1 c123456789012345 t-1\r\nx\r\n'),
      expected(S.Value, { value: hex('x'), cas: '123456789012345', ttl: -1 }),
    );
  });

  test('HD O15 c7', () => {
    assert.deepEqual(one('HD O15 c7\r\n'), expected(S.Header, { opaque: 15, cas: '7' }));
  });

  test('EN O12 and bare EN', () => {
    assert.deepEqual(one('EN O12\r\n'), expected(S.Miss, { opaque: 12 }));
    assert.deepEqual(one('EN\r\n'), expected(S.Miss));
  });

  test('NS, EX, NF, MN', () => {
    assert.deepEqual(one('NS\r\n'), expected(S.NotStored));
    assert.deepEqual(one('EX\r\n'), expected(S.Exists));
    assert.deepEqual(one('NF\r\n'), expected(S.NotFound));
    assert.deepEqual(one('MN\r\n'), expected(S.NoOp));
    assert.deepEqual(one('NS O1\r\n'), expected(S.NotStored, { opaque: 1 }));
    assert.deepEqual(one('EX O2\r\n'), expected(S.Exists, { opaque: 2 }));
    assert.deepEqual(one('NF O4294967295\r\n'), expected(S.NotFound, { opaque: 4294967295 }));
  });

  test('ME keeps the whole debug line after the status as text', () => {
    assert.deepEqual(
      one('ME key exp=-1 la=0 cas=2 fetch=no cls=1 size=63\r\n'),
      expected(S.Debug, { text: 'key exp=-1 la=0 cas=2 fetch=no cls=1 size=63' }),
    );
  });

  test('VERSION, OK, STORED', () => {
    assert.deepEqual(one('VERSION 1.6.18\r\n'), expected(S.Version, { text: '1.6.18' }));
    assert.deepEqual(one('OK\r\n'), expected(S.Ok));
    assert.deepEqual(one('STORED\r\n'), expected(S.Stored));
  });

  test('a stats reply is one STAT response per line, then END', () => {
    const rec = parseAll('STAT pid 1\r\nSTAT uptime 42\r\nSTAT version 1.6.18\r\nEND\r\n');
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Stat, { text: 'pid 1' }),
      expected(S.Stat, { text: 'uptime 42' }),
      expected(S.Stat, { text: 'version 1.6.18' }),
      expected(S.End),
    ]);
  });

  test('ERROR, CLIENT_ERROR and SERVER_ERROR are responses (not parser errors) with their message', () => {
    assert.deepEqual(one('ERROR\r\n'), expected(S.Error));
    assert.deepEqual(
      one('CLIENT_ERROR bad data chunk\r\n'),
      expected(S.ClientError, { text: 'bad data chunk' }),
    );
    assert.deepEqual(
      one('SERVER_ERROR out of memory\r\n'),
      expected(S.ServerError, { text: 'out of memory' }),
    );
    assert.equal(isErrorStatus(S.Error), true);
    assert.equal(isErrorStatus(S.ClientError), true);
    assert.equal(isErrorStatus(S.ServerError), true);
    for (const s of [S.Value, S.Header, S.Miss, S.NotStored, S.Exists, S.NotFound, S.NoOp, S.Debug]) {
      assert.equal(isErrorStatus(s), false);
    }
    for (const s of [S.Version, S.Ok, S.Stat, S.End, S.Stored]) assert.equal(isErrorStatus(s), false);
  });

  test('W, X and Z flags set win, stale and winSent', () => {
    assert.deepEqual(one('VA 0 O1 W\r\n\r\n'), expected(S.Value, { value: '', opaque: 1, win: true }));
    assert.deepEqual(
      one('VA 0 c9 O4 X W\r\n\r\n'),
      expected(S.Value, { value: '', cas: '9', opaque: 4, stale: true, win: true }),
    );
    assert.deepEqual(
      one('HD c9 O6 Z X\r\n'),
      expected(S.Header, { cas: '9', opaque: 6, winSent: true, stale: true }),
    );
    assert.deepEqual(one('EN Z\r\n'), expected(S.Miss, { winSent: true }));
  });

  test('flags the client did not ask for are ignored, whatever they contain', () => {
    assert.deepEqual(
      one('VA 2 s2 kaGVsbG8gd29ybGQ= b h1 l0 N30 O2 q T5 zzz\r\nhi\r\n'),
      expected(S.Value, { value: hex('hi'), opaque: 2 }),
    );
    // A base64 key echoed by `k` may contain letters that are flag names elsewhere.
    assert.deepEqual(one('EN kOWXZ b O7\r\n'), expected(S.Miss, { opaque: 7 }));
  });

  test('extra spaces between flags are tolerated', () => {
    assert.deepEqual(one('HD  O1   c2 \r\n'), expected(S.Header, { opaque: 1, cas: '2' }));
  });

  test('a fresh MetaResponse has the documented defaults', () => {
    assert.deepEqual(plain(metaResponse(S.Header)), expected(S.Header));
  });
});

describe('ResponseParser: values that broke older clients round-trip byte for byte', () => {
  const values: [string, Buffer][] = [
    ['containing \\r\\nEND\\r\\n', Buffer.from('a\r\nEND\r\nb', 'latin1')],
    ['that is exactly \\r\\nEND\\r\\n', Buffer.from('\r\nEND\r\n', 'latin1')],
    ['starting with OK', Buffer.from('OK\r\n', 'latin1')],
    ['starting with VALUE', Buffer.from('VALUE foo 0 3\r\nbar\r\nEND\r\n', 'latin1')],
    ['starting with EN', Buffer.from('EN\r\n', 'latin1')],
    ['that looks like a VA header', Buffer.from('VA 999 O1\r\n', 'latin1')],
    ['ending in a lone CR', Buffer.from('x\r', 'latin1')],
    ['of every byte value 0..255', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ['empty', Buffer.alloc(0)],
  ];

  for (const [name, value] of values) {
    test(`a value ${name}`, () => {
      const wire = Buffer.concat([
        Buffer.from(`VA ${value.length} O9\r\n`),
        value,
        Buffer.from('\r\nMN\r\n'),
      ]);
      // One chunk, and every two-chunk split.
      for (let cut = -1; cut <= wire.length; cut++) {
        const rec = parseAll(wire, cut < 0 ? [] : [cut]);
        assert.deepEqual(rec.errors, []);
        assert.deepEqual(rec.responses.map(plain), [
          expected(S.Value, { value: value.toString('hex'), opaque: 9 }),
          expected(S.NoOp),
        ]);
      }
    });
  }

  test('a 1 MB value of random bytes, in one chunk and in 1000-byte chunks', () => {
    const value = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 2654435761) >>> 24;
    value.write('\r\nEND\r\n', 1000, 'latin1');
    const wire = Buffer.concat([
      Buffer.from(`VA ${value.length} f1 O1\r\n`),
      value,
      Buffer.from('\r\nHD O2\r\n'),
    ]);
    const cuts: number[] = [];
    for (let c = 1000; c < wire.length; c += 1000) cuts.push(c);
    for (const split of [[], cuts]) {
      const rec = parseAll(wire, split);
      assert.deepEqual(rec.errors, []);
      assert.equal(rec.responses.length, 2);
      const got = rec.responses[0]!;
      assert.equal(got.status, S.Value);
      assert.equal(got.clientFlags, 1);
      assert.equal(got.opaque, 1);
      assert.ok(got.value?.equals(value), 'the 1 MB value is byte-identical');
      assert.deepEqual(plain(rec.responses[1]!), expected(S.Header, { opaque: 2 }));
    }
  });

  test('a value does not alias the chunk it came in (later writes to the chunk do not change it)', () => {
    const rec = recorder();
    const chunk = Buffer.from('VA 3 O1\r\nabc\r\n', 'latin1');
    rec.parser.feed(chunk);
    chunk.fill(0x21);
    assert.equal(rec.responses[0]!.value!.toString('latin1'), 'abc');
  });

  test('values are copied from where the chunk sits in its memory (a slice at an offset, as TLS hands them)', () => {
    const rec = recorder();
    const memory = Buffer.from('garbage!VA 3 O1\r\nabc\r\nVA 4 O2\r\nwxyz\r\ntrailing', 'latin1');
    const chunk = memory.subarray(8, memory.length - 8);
    rec.parser.feed(chunk);
    memory.fill(0x21);
    assert.deepEqual(
      rec.responses.map((r) => r.value?.toString('latin1')),
      ['abc', 'wxyz'],
    );
  });
});

describe('ResponseParser: chunking', () => {
  const stream =
    'VA 3 f5 c12 O14 t-1\r\nbar\r\nHD O15 c7\r\nEN O12\r\nVA 0 O1\r\n\r\nNS\r\nEX\r\nNF\r\n' +
    'ME key exp=-1 la=0\r\nVERSION 1.6.18\r\nOK\r\nSTORED\r\nSTAT pid 1\r\nEND\r\nERROR\r\n' +
    'CLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\nVA 4 O2 W\r\nx\r\ny\r\nMN\r\n';
  const want: Plain[] = [
    expected(S.Value, { value: hex('bar'), clientFlags: 5, cas: '12', opaque: 14, ttl: -1 }),
    expected(S.Header, { opaque: 15, cas: '7' }),
    expected(S.Miss, { opaque: 12 }),
    expected(S.Value, { value: '', opaque: 1 }),
    expected(S.NotStored),
    expected(S.Exists),
    expected(S.NotFound),
    expected(S.Debug, { text: 'key exp=-1 la=0' }),
    expected(S.Version, { text: '1.6.18' }),
    expected(S.Ok),
    expected(S.Stored),
    expected(S.Stat, { text: 'pid 1' }),
    expected(S.End),
    expected(S.Error),
    expected(S.ClientError, { text: 'bad data chunk' }),
    expected(S.ServerError, { text: 'out of memory' }),
    expected(S.Value, { value: hex('x\r\ny'), opaque: 2, win: true }),
    expected(S.NoOp),
  ];
  const bytes = Buffer.from(stream, 'latin1');

  test('many responses in one chunk arrive in order', () => {
    const rec = parseAll(bytes);
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), want);
    assert.equal(rec.parser.hasPartial, false);
  });

  test('the stream split at every pair of byte positions parses the same', () => {
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 7) {
        const rec = parseAll(bytes, [i, j]);
        assert.deepEqual(rec.errors, [], `cuts ${i},${j}`);
        assert.deepEqual(rec.responses.map(plain), want, `cuts ${i},${j}`);
        assert.equal(rec.parser.hasPartial, false);
      }
    }
  });

  test('bytes past the end a read passes are never read, wherever the read ends', () => {
    // A transport reads into one reused buffer and passes how many bytes are this read's: what
    // lies past them is an earlier read's. Here it is what would complete, or corrupt, the line
    // or value cut short: a CRLF, a digit, a space and a flag, a whole reply.
    for (const stale of ['\r\n7 O5\r\nHD O6\r\n', '\nHD O6\r\n', '5 O5\r\n', ' O5\r\n']) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const rec = recorder();
        const reused = Buffer.concat([bytes.subarray(0, cut), Buffer.from(stale, 'latin1')]);
        rec.parser.feed(reused, cut);
        rec.parser.feed(bytes.subarray(cut));
        assert.deepEqual(rec.errors, [], `cut ${cut}, then ${JSON.stringify(stale)}`);
        assert.deepEqual(rec.responses.map(plain), want, `cut ${cut}, then ${JSON.stringify(stale)}`);
      }
    }
  });

  test('the stream fed one byte at a time parses the same', () => {
    const rec = recorder();
    for (let i = 0; i < bytes.length; i++) rec.parser.feed(bytes.subarray(i, i + 1));
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), want);
  });

  test('hasPartial is true exactly while a response is incomplete', () => {
    const wire = Buffer.from('HD O1\r\nVA 3 O2\r\nbar\r\n', 'latin1');
    for (let cut = 0; cut <= wire.length; cut++) {
      const rec = recorder();
      rec.parser.feed(wire.subarray(0, cut));
      const complete = cut === 0 || cut === 7 || cut === wire.length;
      assert.equal(rec.parser.hasPartial, !complete, `after ${cut} bytes`);
      assert.equal(rec.responses.length, cut < 7 ? 0 : cut < wire.length ? 1 : 2, `after ${cut} bytes`);
      rec.parser.feed(wire.subarray(cut));
      assert.equal(rec.parser.hasPartial, false);
      assert.equal(rec.responses.length, 2);
    }
  });

  test('an empty chunk changes nothing', () => {
    const rec = recorder();
    rec.parser.feed(Buffer.from('VA 3 O1\r\nb', 'latin1'));
    rec.parser.feed(Buffer.alloc(0));
    assert.equal(rec.parser.hasPartial, true);
    rec.parser.feed(Buffer.from('ar\r\n', 'latin1'));
    assert.deepEqual(rec.responses.map(plain), [expected(S.Value, { value: hex('bar'), opaque: 1 })]);
  });

  test('a 50 MB value fed in 64 KB chunks completes in linear time (< 2 s)', () => {
    const size = 50 * 1024 * 1024;
    const chunkSize = 64 * 1024;
    const wire = Buffer.allocUnsafe(size + 64);
    let at = wire.write(`VA ${size} O77\r\n`, 'latin1');
    const valueStart = at;
    for (let i = 0; i < size; i += 4) wire.writeUInt32LE(i, at + i);
    at += size;
    at += wire.write('\r\nMN\r\n', at, 'latin1');
    const stream = wire.subarray(0, at);
    const rec = recorder();
    const started = performance.now();
    for (let i = 0; i < stream.length; i += chunkSize) rec.parser.feed(stream.subarray(i, i + chunkSize));
    const elapsed = performance.now() - started;
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.responses.length, 2);
    assert.equal(rec.responses[0]!.opaque, 77);
    assert.ok(rec.responses[0]!.value!.equals(stream.subarray(valueStart, valueStart + size)));
    assert.equal(rec.responses[1]!.status, S.NoOp);
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
  });

  test('ten thousand small responses split into 3-byte chunks complete in linear time (< 2 s)', () => {
    const wire = Buffer.from('HD O1\r\nVA 2 O2\r\nhi\r\n'.repeat(10_000), 'latin1');
    const rec = recorder();
    const started = performance.now();
    for (let i = 0; i < wire.length; i += 3) rec.parser.feed(wire.subarray(i, i + 3));
    const elapsed = performance.now() - started;
    assert.equal(rec.responses.length, 20_000);
    assert.deepEqual(plain(rec.responses[19_999]!), expected(S.Value, { value: hex('hi'), opaque: 2 }));
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('ResponseParser: malformed input stops the parser with one ProtocolError', () => {
  const cases: [string, string][] = [
    ['a line ending in LF only', 'HD O1\n'],
    ['a bare LF', '\n'],
    ['an empty line', '\r\n'],
    ['an unknown status line', 'HELLO\r\n'],
    ['a classic VALUE line (meta protocol only)', 'VALUE foo 0 3\r\nbar\r\nEND\r\n'],
    ['a lower-case status', 'hd\r\n'],
    ['a two-letter status run into a flag', 'HDO1\r\n'],
    ['VA without a size', 'VA\r\n'],
    ['VA with a non-numeric size', 'VA x3\r\nabc\r\n'],
    ['VA with a negative size', 'VA -1\r\n\r\n'],
    ['VA with a size longer than 11 digits', 'VA 000000000001\r\nx\r\n'],
    ['a value not followed by CRLF', 'VA 3 O1\r\nbarX\r\n'],
    ['a value followed by LF only', 'VA 3 O1\r\nbar\nHD\r\n'],
    ['an opaque that is not a number', 'HD Oabc\r\n'],
    ['an empty opaque', 'HD O\r\n'],
    ['an opaque of 16 digits', 'HD O1234567890123456\r\n'],
    ['an empty CAS', 'HD c\r\n'],
    ['client flags that are not a number', 'VA 1 f-1\r\nx\r\n'],
    ['a TTL below -1', 'HD t-2\r\n'],
    ['a TTL that is not a number', 'HD tx\r\n'],
  ];
  for (const [name, wire] of cases) {
    test(name, () => {
      rejects(wire);
    });
  }

  test('an LF inside a line fails it, read in one go or split anywhere (a line ends at its first LF)', () => {
    for (const wire of [
      'MN k=\n\r\n',
      'HD Wx\ny\r\n',
      'VA 1 kz\n\r\nx\r\n',
      'MN \nk\r\n',
      'HD O1 \n\r\n',
      'HD c\n\r\n',
    ]) {
      const bytes = Buffer.from(wire, 'latin1');
      for (let cut = 0; cut <= bytes.length; cut++) {
        const rec = parseAll(bytes, cut === 0 ? [] : [cut]);
        assert.equal(rec.errors.length, 1, `${JSON.stringify(wire)} cut at ${cut}`);
        assert.match(rec.errors[0]!.message, /does not end with CRLF/);
        assert.equal(rec.responses.length, 0);
      }
    }
  });

  test('a header line of more than 8 KB without LF', () => {
    const error = rejects(`HD ${'k'.repeat(8200)}`);
    assert.match(error.message, /longer than 8 KB/);
  });

  test('a header line growing past 8 KB across chunks', () => {
    const rec = recorder();
    rec.parser.feed(Buffer.from('HD ', 'latin1'));
    for (let i = 0; i < 100 && rec.errors.length === 0; i++) rec.parser.feed(Buffer.alloc(100, 0x6b));
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.parser.isStopped, true);
    assert.equal(rec.parser.hasPartial, false);
  });

  test('responses before the bad line are delivered, nothing after it', () => {
    const rec = parseAll('HD O1\r\nEN O2\r\nBOGUS\r\nHD O3\r\n');
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Header, { opaque: 1 }),
      expected(S.Miss, { opaque: 2 }),
    ]);
    assert.equal(rec.errors.length, 1);
    assert.deepEqual(rec.responsesAtError, [2]);
    rec.parser.feed(Buffer.from('HD O4\r\n', 'latin1'));
    assert.equal(rec.responses.length, 2, 'input after an error is ignored');
    assert.equal(rec.errors.length, 1, 'the error is reported once');
  });

  test('a value whose trailing CRLF is wrong is detected after it arrived in pieces', () => {
    const rec = recorder();
    rec.parser.feed(Buffer.from('VA 5 O1\r\nab', 'latin1'));
    rec.parser.feed(Buffer.from('cde', 'latin1'));
    assert.equal(rec.errors.length, 0);
    rec.parser.feed(Buffer.from('XY\r\nHD O2\r\n', 'latin1'));
    assert.equal(rec.responses.length, 0);
    assert.equal(rec.errors.length, 1);
    assert.match(rec.errors[0]!.message, /not followed by CRLF/);
  });
});

describe('ResponseParser: maxValueBytes', () => {
  test('a VA size of exactly maxValueBytes is accepted, one byte more is skipped', () => {
    const rec = recorder(4);
    rec.parser.feed(Buffer.from('VA 4 O1\r\nabcd\r\nVA 5 O2\r\nabcde\r\n', 'latin1'));
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Value, { value: hex('abcd'), opaque: 1 }),
      expected(S.Value, { oversizeBytes: 5, opaque: 2 }),
    ]);
    assert.equal(rec.parser.hasPartial, false);
  });

  test('the default limit (1 GiB) rejects a 2 GB header without allocating it', () => {
    const before = process.memoryUsage().arrayBuffers;
    rejects('VA 2000000000 O1\r\n');
    rejects('VA 1073741825\r\n');
    assert.ok(process.memoryUsage().arrayBuffers - before < 512 * 1024);
  });
});

describe('ResponseParser: a value larger than maxValueBytes is skipped, not an error', () => {
  const LIMIT = 10;
  // 25 bytes that look like protocol: a skip must not parse any of them.
  const value = 'VA 3\r\nHD O9\r\n\r\nEN\r\nMN\r\nxx';
  assert.equal(value.length, 25);
  const stream = Buffer.from(
    `HD O1\r\nVA 25 O2 f5 c77 t-1 W X Z k=ignored\r\n${value}\r\nVA 3 O3\r\nbar\r\nMN\r\n`,
    'latin1',
  );
  const want: Plain[] = [
    expected(S.Header, { opaque: 1 }),
    expected(S.Value, {
      oversizeBytes: 25,
      opaque: 2,
      clientFlags: 5,
      cas: '77',
      ttl: -1,
      win: true,
      stale: true,
      winSent: true,
    }),
    expected(S.Value, { value: hex('bar'), opaque: 3 }),
    expected(S.NoOp),
  ];
  /** Where the skipped block (with its CRLF) starts and ends in `stream`. */
  const skipFrom = stream.indexOf('\n', 7) + 1;
  const skipTo = skipFrom + 25 + 2;

  test('in one chunk: delivered in order with every flag, value null, and the next responses intact', () => {
    const rec = recorder(LIMIT);
    rec.parser.feed(stream);
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), want);
    assert.equal(rec.responses[1]!.value, null);
    assert.equal(rec.parser.hasPartial, false);
    assert.equal(rec.parser.isStopped, false);
  });

  test('split at every position, and at every pair of positions, parses the same', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const rec = recorder(LIMIT);
        feedSplit(rec.parser, stream, [i, j]);
        assert.deepEqual(rec.errors, [], `cuts ${i},${j}`);
        assert.deepEqual(rec.responses.map(plain), want, `cuts ${i},${j}`);
        assert.equal(rec.parser.hasPartial, false, `cuts ${i},${j}`);
      }
    }
  });

  test('fed one byte at a time: hasPartial throughout the skip, directTarget null, one delivery at the end', () => {
    const rec = recorder(LIMIT);
    for (let i = 0; i < stream.length; i++) {
      rec.parser.feed(stream.subarray(i, i + 1));
      const fed = i + 1;
      if (fed >= skipFrom && fed < skipTo) {
        assert.equal(rec.parser.hasPartial, true, `after ${fed} bytes`);
        assert.equal(rec.parser.directTarget(1), null, `after ${fed} bytes`);
        assert.equal(rec.responses.length, 1, `after ${fed} bytes`);
      }
      if (fed === skipTo) {
        assert.equal(rec.parser.hasPartial, false);
        assert.equal(rec.responses.length, 2);
      }
    }
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), want);
  });

  test('a skipped block whose trailing CRLF is wrong is an error, wherever the stream is split', () => {
    for (const trailer of ['XY', '\rX', 'X\n', '\n\r', '\r\r', '\n\n']) {
      const bad = Buffer.from(`HD O1\r\nVA 25 O2\r\n${value}${trailer}HD O3\r\n`, 'latin1');
      for (let cut = 0; cut <= bad.length; cut++) {
        const rec = recorder(LIMIT);
        feedSplit(rec.parser, bad, [cut]);
        const what = `${JSON.stringify(trailer)}, cut ${cut}`;
        assert.equal(rec.errors.length, 1, what);
        assert.match(rec.errors[0]!.message, /not followed by CRLF/, what);
        assert.deepEqual(rec.responses.map(plain), [expected(S.Header, { opaque: 1 })], what);
        assert.equal(rec.parser.isStopped, true, what);
        assert.equal(rec.parser.hasPartial, false, what);
      }
    }
  });

  test('a size above 1 GiB is still an error; exactly 1 GiB is skipped', () => {
    assert.match(rejects('VA 1073741825 O1\r\n', LIMIT).message, /bad size/);
    assert.match(rejects('VA 99999999999 O1\r\n', LIMIT).message, /bad size/);
    const rec = recorder(LIMIT);
    rec.parser.feed(Buffer.from('VA 1073741824 O1\r\nabc', 'latin1'));
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.parser.hasPartial, true);
    assert.equal(rec.parser.directTarget(1), null);
  });

  test('a malformed size is still an error below and above the limit', () => {
    rejects('VA 1x O1\r\n', LIMIT);
    rejects('VA 99x O1\r\n', LIMIT);
    rejects('VA -99\r\n', LIMIT);
    rejects('VA 000000000099\r\n', LIMIT);
  });

  test('a malformed flag on an oversize header is still an error', () => {
    rejects('VA 99 Oabc\r\n', LIMIT);
  });

  test('VA 0-size values and values at the limit are unaffected by a small limit', () => {
    const rec = recorder(LIMIT);
    feedSplit(
      rec.parser,
      Buffer.from('VA 0 O1\r\n\r\nVA 10 O2\r\n0123456789\r\nVA 11 O3\r\n01234567890\r\n'),
      [5, 14, 27],
    );
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Value, { value: '', opaque: 1 }),
      expected(S.Value, { value: hex('0123456789'), opaque: 2 }),
      expected(S.Value, { oversizeBytes: 11, opaque: 3 }),
    ]);
  });

  test('several oversize values in a row, split byte by byte', () => {
    // O1 skips 11 bytes of CRLFs; O2's 12-byte block is itself a `VA 12 O3` header line plus CRLF.
    const wire = Buffer.from(
      'VA 11 O1\r\n\r\n\r\n\r\n\r\n\r\nx\r\nVA 12 O2\r\nVA 12 O3\r\n\r\n\r\nHD O4\r\n',
      'latin1',
    );
    const rec = recorder(LIMIT);
    for (let i = 0; i < wire.length; i++) rec.parser.feed(wire.subarray(i, i + 1));
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Value, { oversizeBytes: 11, opaque: 1 }),
      expected(S.Value, { oversizeBytes: 12, opaque: 2 }),
      expected(S.Header, { opaque: 4 }),
    ]);
  });

  test('a 200 MB oversize value is skipped in 64 KB chunks without allocating it', () => {
    const size = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const rec = recorder(1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    rec.parser.feed(Buffer.from(`VA ${size} O5 f1\r\n`, 'latin1'));
    for (let left = size; left > 0; left -= chunk.length) {
      rec.parser.feed(left >= chunk.length ? chunk : chunk.subarray(0, left));
      if (left > chunk.length) assert.equal(rec.parser.hasPartial, true);
    }
    rec.parser.feed(Buffer.from('\r\nHD O6\r\n', 'latin1'));
    const elapsed = performance.now() - started;
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.responses.map(plain), [
      expected(S.Value, { oversizeBytes: size, opaque: 5, clientFlags: 1 }),
      expected(S.Header, { opaque: 6 }),
    ]);
    assert.ok(grown < 1024 * 1024, `grew by ${grown} bytes`);
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
  });

  test('stop() while skipping ends the skip and clears hasPartial', () => {
    const rec = recorder(LIMIT);
    rec.parser.feed(Buffer.from('VA 25 O1\r\nabc', 'latin1'));
    assert.equal(rec.parser.hasPartial, true);
    rec.parser.stop();
    assert.equal(rec.parser.hasPartial, false);
    assert.equal(rec.parser.isStopped, true);
    rec.parser.feed(Buffer.from(`${'x'.repeat(22)}\r\nHD O2\r\n`, 'latin1'));
    assert.deepEqual(rec.responses, []);
    assert.deepEqual(rec.errors, []);
  });

  test('stop() inside onResponse for a skipped value ignores what follows it, in one chunk or split', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const seen: number[] = [];
      const parser: ResponseParser = new ResponseParser(
        {
          onResponse: (r) => {
            seen.push(r.opaque);
            if (r.oversizeBytes >= 0) parser.stop();
          },
          onError: () => assert.fail('no error expected'),
        },
        LIMIT,
      );
      feedSplit(parser, stream, [cut]);
      assert.deepEqual(seen, [1, 2], `cut ${cut}`);
      assert.equal(parser.hasPartial, false);
    }
  });
});

describe('ResponseParser: stop()', () => {
  test('stop() inside onResponse drops the rest of the chunk and all later input', () => {
    const seen: number[] = [];
    let errors = 0;
    const parser: ResponseParser = new ResponseParser({
      onResponse: (r) => {
        seen.push(r.opaque);
        if (r.opaque === 2) parser.stop();
      },
      onError: () => {
        errors++;
      },
    });
    parser.feed(Buffer.from('HD O1\r\nHD O2\r\nHD O3\r\nVA 3 O4\r\nba', 'latin1'));
    parser.feed(Buffer.from('r\r\nHD O5\r\n', 'latin1'));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(errors, 0, 'stop() is not an error');
    assert.equal(parser.isStopped, true);
    assert.equal(parser.hasPartial, false);
  });

  test('stop() while a value is partial clears hasPartial', () => {
    const rec = recorder();
    rec.parser.feed(Buffer.from('VA 10 O1\r\nabc', 'latin1'));
    assert.equal(rec.parser.hasPartial, true);
    assert.equal(rec.parser.isStopped, false);
    rec.parser.stop();
    assert.equal(rec.parser.hasPartial, false);
    rec.parser.feed(Buffer.from('defghij\r\n', 'latin1'));
    assert.equal(rec.responses.length, 0);
  });

  test('stop() inside onResponse for a value completed across chunks ignores what follows it', () => {
    const seen: number[] = [];
    const parser: ResponseParser = new ResponseParser({
      onResponse: (r) => {
        seen.push(r.opaque);
        parser.stop();
      },
      onError: () => assert.fail('no error expected'),
    });
    parser.feed(Buffer.from('VA 3 O1\r\nb', 'latin1'));
    parser.feed(Buffer.from('ar\r\nHD O2\r\n', 'latin1'));
    assert.deepEqual(seen, [1]);
  });
});

test('feedSplit helper feeds every byte exactly once', () => {
  const rec = recorder();
  feedSplit(rec.parser, Buffer.from('HD O1\r\nHD O2\r\n', 'latin1'), [9, 3, 3, 100]);
  assert.deepEqual(
    rec.responses.map((r) => r.opaque),
    [1, 2],
  );
});

describe('ResponseParser: one reused read buffer, fed with the bytes read (feed(chunk, end))', () => {
  // What a connection does: every read lands at the start of the same buffer, and the bytes
  // after `end` are an earlier read's. They must never be parsed, whatever they contain.
  function readInto(buffer: Buffer, text: string): number {
    const bytes = Buffer.from(text, 'latin1');
    bytes.copy(buffer, 0);
    return bytes.length;
  }

  test('stale bytes after the end are not parsed: no line, no value, no partial line completed from them', () => {
    const rec = recorder();
    const buffer = Buffer.alloc(256);
    // An earlier read left whole replies and line ends behind.
    buffer.write('HD O91\r\nVA 2 O92\r\nzz\r\nEN O93\r\n'.repeat(4), 'latin1');
    rec.parser.feed(buffer, readInto(buffer, 'VA 3 c77 O1\r\nabc\r\nHD O'));
    assert.deepEqual(rec.responses.map(plain), [
      expected(ResponseStatus.Value, { value: '616263', opaque: 1, cas: '77' }),
    ]);
    assert.equal(rec.parser.hasPartial, true);
    rec.parser.feed(buffer, readInto(buffer, '2\r\nVA 4 O3\r\nde'));
    assert.deepEqual(
      rec.responses.map((r) => r.opaque),
      [1, 2],
    );
    rec.parser.feed(buffer, readInto(buffer, 'fg\r\nEN O4\r\n'));
    assert.deepEqual(rec.responses.map(plain).slice(2), [
      expected(ResponseStatus.Value, { value: '64656667', opaque: 3 }),
      expected(ResponseStatus.Miss, { opaque: 4 }),
    ]);
    assert.equal(rec.parser.hasPartial, false);
    assert.deepEqual(rec.errors, []);
  });

  test('thousands of values of every size, read into one buffer in reads of random length, all keep their bytes', () => {
    // Small values are views of slabs the parser copies runs of a read into (ValueCopier): no
    // value may ever see another's bytes, a later run's or a later read's.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const values: Buffer[] = [];
    let stream = '';
    for (let i = 0; i < 3000; i++) {
      const size = random(10) === 0 ? 4000 + random(2000) : random(300);
      const value = Buffer.from(Array.from({ length: size }, (_, j) => (i * 31 + j) % 256));
      values.push(value);
      stream += i % 7 === 0 ? `EN O${i}\r\n` : '';
      stream += `VA ${size} O${i}\r\n${value.toString('latin1')}\r\n`;
    }
    const bytes = Buffer.from(stream, 'latin1');
    const rec = recorder();
    const buffer = Buffer.alloc(16 * 1024);
    for (let pos = 0; pos < bytes.length; ) {
      const n = Math.min(bytes.length - pos, 1 + random(buffer.length));
      bytes.copy(buffer, 0, pos, pos + n);
      buffer.fill(0x3f, n); // what a read leaves past its end is never anyone's value
      rec.parser.feed(buffer, n);
      pos += n;
    }
    assert.deepEqual(rec.errors, []);
    const got = rec.responses.filter((r) => r.status === ResponseStatus.Value);
    assert.equal(got.length, values.length);
    for (const [i, r] of got.entries()) {
      assert.ok(Buffer.isBuffer(r.value) && r.value instanceof Buffer, `value ${i} is a Buffer`);
      assert.ok(r.value.equals(values[i]!), `value ${i} (${values[i]!.length} B)`);
    }
  });

  test('a value copied out of the reused buffer keeps its bytes when the next read overwrites it', () => {
    const rec = recorder();
    const buffer = Buffer.alloc(64);
    rec.parser.feed(buffer, readInto(buffer, 'VA 5 O1\r\nhello\r\n'));
    rec.parser.feed(buffer, readInto(buffer, 'VA 5 O2\r\nworld\r\n'));
    assert.deepEqual(
      rec.responses.map((r) => r.value?.toString('latin1')),
      ['hello', 'world'],
    );
  });
});
