import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { ResponseStatus } from '../../src/protocol/ResponseStatus.js';
import { expected, feedSplit, type Plain, plain, recorder } from './collect.js';

const S = ResponseStatus;

/** One generated response: the bytes memcached would send and what the parser must report. */
interface Sample {
  wire: Buffer;
  want: Plain;
}

// --- Generators -------------------------------------------------------------------------------

/** A decoded flag: its wire token and what it sets on the response. */
type Flag = { token: string; apply: (p: Plain) => void; letter: string };

const flagArb: fc.Arbitrary<Flag> = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => ({
    letter: 'O',
    token: `O${n}`,
    apply: (p: Plain) => {
      p.opaque = n;
    },
  })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => ({
    letter: 'c',
    token: `c${n}`,
    apply: (p: Plain) => {
      p.cas = String(n);
    },
  })),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => ({
    letter: 'f',
    token: `f${n}`,
    apply: (p: Plain) => {
      p.clientFlags = n;
    },
  })),
  fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map((n) => ({
    letter: 't',
    token: `t${n}`,
    apply: (p: Plain) => {
      p.ttl = n;
    },
  })),
  fc.constant({
    letter: 'W',
    token: 'W',
    apply: (p: Plain) => {
      p.win = true;
    },
  }),
  fc.constant({
    letter: 'X',
    token: 'X',
    apply: (p: Plain) => {
      p.stale = true;
    },
  }),
  fc.constant({
    letter: 'Z',
    token: 'Z',
    apply: (p: Plain) => {
      p.winSent = true;
    },
  }),
  // Flags the client never asks for: any other first byte, any printable non-space rest.
  fc
    .tuple(
      fc.constantFrom(...'abhklmnNqsSTuvIEMPg=+/0123456789'.split('')),
      fc.string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 12,
      }),
    )
    .map(([letter, rest]) => ({ letter: `?${letter}${rest}`, token: `${letter}${rest}`, apply: () => {} })),
);

/** Each decoded flag at most once (memcached never repeats one), in any order. */
const flagsArb = fc.uniqueArray(flagArb, { selector: (f) => f.letter, maxLength: 9 });

/** Values: arbitrary bytes, and byte soups rich in what looks like protocol. */
const valueArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .array(fc.constantFrom('\r\n', '\r', '\n', 'END', 'VA 3 ', 'HD', 'EN', 'OK', 'VALUE x 0 1', ' ', 'x'), {
      maxLength: 20,
    })
    .map((parts) => new Uint8Array(Buffer.from(parts.join(''), 'latin1'))),
);

/** Text after a word status: any byte but LF (the parser decodes it as latin1). */
const textArb = fc.string({
  unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c === 10 ? 9 : c)),
  maxLength: 40,
});

const metaArb: fc.Arbitrary<Sample> = fc
  .tuple(
    fc.constantFrom(
      ['VA', S.Value],
      ['HD', S.Header],
      ['EN', S.Miss],
      ['NS', S.NotStored],
      ['EX', S.Exists],
      ['NF', S.NotFound],
    ),
    flagsArb,
    valueArb,
  )
  .map(([[code, status], flags, value]) => {
    const want = expected(status);
    for (const f of flags) f.apply(want);
    const tokens = flags.map((f) => ` ${f.token}`).join('');
    if (status !== S.Value) return { wire: Buffer.from(`${code}${tokens}\r\n`, 'latin1'), want };
    want.value = Buffer.from(value).toString('hex');
    const wire = Buffer.concat([Buffer.from(`VA ${value.length}${tokens}\r\n`, 'latin1'), value, CRLF]);
    return { wire, want };
  });

const CRLF = Buffer.from('\r\n');

/** Readers in the valid-stream properties accept values up to this; bigger ones are skipped. */
const VALID_MAX_VALUE = 64;

/** A `VA` with a data block larger than the reader's limit: skipped, flags decoded, value null. */
const oversizeArb: fc.Arbitrary<Sample> = fc
  .tuple(flagsArb, fc.uint8Array({ minLength: VALID_MAX_VALUE + 1, maxLength: 400 }))
  .map(([flags, value]) => {
    const want = expected(S.Value, { oversizeBytes: value.length });
    for (const f of flags) f.apply(want);
    const tokens = flags.map((f) => ` ${f.token}`).join('');
    const wire = Buffer.concat([Buffer.from(`VA ${value.length}${tokens}\r\n`, 'latin1'), value, CRLF]);
    return { wire, want };
  });

const lineArb: fc.Arbitrary<Sample> = fc.oneof(
  fc.constant({ wire: Buffer.from('MN\r\n'), want: expected(S.NoOp) }),
  fc.constant({ wire: Buffer.from('END\r\n'), want: expected(S.End) }),
  fc.constant({ wire: Buffer.from('OK\r\n'), want: expected(S.Ok) }),
  fc.constant({ wire: Buffer.from('STORED\r\n'), want: expected(S.Stored) }),
  fc.constant({ wire: Buffer.from('ERROR\r\n'), want: expected(S.Error) }),
  fc
    .tuple(
      fc.constantFrom(
        ['ME', S.Debug],
        ['VERSION', S.Version],
        ['STAT', S.Stat],
        ['CLIENT_ERROR', S.ClientError],
        ['SERVER_ERROR', S.ServerError],
      ),
      textArb,
    )
    .map(([[word, status], text]) => ({
      wire: Buffer.from(text === '' ? `${word}\r\n` : `${word} ${text}\r\n`, 'latin1'),
      want: expected(status, { text }),
    })),
);

/** `metaArb` as a reader limited to `VALID_MAX_VALUE` reports it: a bigger value is skipped. */
const limitedMetaArb = metaArb.map((sample) => {
  const size = sample.want.value === null ? -1 : sample.want.value.length / 2;
  if (size <= VALID_MAX_VALUE) return sample;
  return { wire: sample.wire, want: { ...sample.want, value: null, oversizeBytes: size } };
});

const responsesArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: limitedMetaArb },
    { weight: 1, arbitrary: lineArb },
    { weight: 1, arbitrary: oversizeArb },
  ),
  {
    maxLength: 12,
  },
);

/** Cut points as fractions of the stream, so they scale with whatever length it has. */
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 24 });
const toCuts = (fractions: readonly number[], length: number): number[] =>
  fractions.map((f) => Math.floor(f * (length + 1)));

// --- Valid streams ------------------------------------------------------------------------------

describe('ResponseParser properties: valid streams', () => {
  test('any list of responses, serialised and split anywhere, parses back to the same list', () => {
    fc.assert(
      fc.property(responsesArb, cutsArb, (samples, fractions) => {
        const wire = Buffer.concat(samples.map((s) => s.wire));
        const rec = recorder(VALID_MAX_VALUE);
        feedSplit(rec.parser, wire, toCuts(fractions, wire.length));
        assert.deepEqual(rec.errors, []);
        assert.deepEqual(
          rec.responses.map(plain),
          samples.map((s) => s.want),
        );
        assert.equal(rec.parser.hasPartial, false);
        assert.equal(rec.parser.isStopped, false);
      }),
      { numRuns: 3000 },
    );
  });

  test('every prefix of a valid stream yields a prefix of the responses and hasPartial iff mid-response', () => {
    fc.assert(
      fc.property(responsesArb, fc.double({ min: 0, max: 1, noNaN: true }), (samples, fraction) => {
        const wire = Buffer.concat(samples.map((s) => s.wire));
        const cut = Math.min(wire.length, Math.floor(fraction * (wire.length + 1)));
        let boundary = 0;
        let complete = 0;
        for (const s of samples) {
          if (boundary + s.wire.length > cut) break;
          boundary += s.wire.length;
          complete++;
        }
        const rec = recorder(VALID_MAX_VALUE);
        rec.parser.feed(wire.subarray(0, cut));
        assert.deepEqual(rec.errors, []);
        assert.deepEqual(
          rec.responses.map(plain),
          samples.slice(0, complete).map((s) => s.want),
        );
        assert.equal(rec.parser.hasPartial, cut > boundary);
      }),
      { numRuns: 2000 },
    );
  });
});

// --- Fuzz ------------------------------------------------------------------------------------------

/** How many distinct byte strings the fuzz properties below fed; checked at the end of the file. */
let fuzzCases = 0;
let slowestCaseMs = 0;
const FUZZ_MAX_VALUE = 4096;

interface Outcome {
  responses: Plain[];
  errors: number;
}

/**
 * Feeds `bytes` (split at `cuts`) to a fresh parser and checks the invariants that must hold for
 * any input: no throw, at most one error, nothing after the error, stopped iff failed.
 */
function fuzzOne(bytes: Buffer, cuts: readonly number[]): Outcome {
  const rec = recorder(FUZZ_MAX_VALUE);
  const started = performance.now();
  feedSplit(rec.parser, bytes, cuts);
  const elapsed = performance.now() - started;
  if (elapsed > slowestCaseMs) slowestCaseMs = elapsed;
  const errors = rec.errors.length;
  assert.ok(errors <= 1, `onError called ${errors} times`);
  if (errors === 1) {
    assert.equal(rec.responsesAtError[0], rec.responses.length, 'onResponse called after onError');
    assert.equal(rec.parser.hasPartial, false);
  }
  assert.equal(rec.parser.isStopped, errors === 1);
  for (const r of rec.responses) {
    if (r.value !== null) assert.ok(r.value.length <= FUZZ_MAX_VALUE);
  }
  return { responses: rec.responses.map(plain), errors };
}

type Mutation = {
  kind: 'flip' | 'set' | 'insert' | 'delete' | 'duplicate' | 'truncate';
  at: number;
  byte: number;
};
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'duplicate', 'truncate'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  // Bias towards bytes that matter to the framing.
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(10, 13, 32, 48, 57, 0x41, 0x56)),
});

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    const at = Math.floor(m.at * bytes.length);
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << (m.byte & 7));
        break;
      case 'set':
        if (at < bytes.length) bytes[at] = m.byte;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(m.byte), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + (m.byte % 16)), bytes.subarray(at)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
}

const smallResponsesArb = fc.array(
  fc.oneof({ weight: 3, arbitrary: metaArb }, { weight: 1, arbitrary: lineArb }),
  {
    maxLength: 5,
  },
);

describe('ResponseParser properties: fuzz (never throws, one error at most, nothing after it)', () => {
  after(() => {
    assert.ok(fuzzCases >= 100_000, `only ${fuzzCases} fuzz cases ran`);
    console.log(`# fuzz: ${fuzzCases} byte strings, slowest ${slowestCaseMs.toFixed(2)} ms`);
    // Generous: a case is a few hundred bytes; this only catches a hang or a giant allocation.
    assert.ok(slowestCaseMs < 500, `slowest fuzz case took ${slowestCaseMs} ms`);
  });

  test('mutated valid streams parse the same whole or split, and stay within the invariants', () => {
    fc.assert(
      fc.property(
        smallResponsesArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        cutsArb,
        (samples, mutations, fractions) => {
          const bytes = mutate(Buffer.concat(samples.map((s) => s.wire)), mutations);
          fuzzCases++;
          const whole = fuzzOne(bytes, []);
          const split = fuzzOne(bytes, toCuts(fractions, bytes.length));
          // Lines here are far below the 8 KB limit, so chunking can never change the outcome.
          assert.deepEqual(split, whole);
        },
      ),
      { numRuns: 45_000 },
    );
  });

  test('pure random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), cutsArb, (bytes, fractions) => {
        const buf = Buffer.from(bytes);
        fuzzCases++;
        fuzzOne(buf, toCuts(fractions, buf.length));
      }),
      { numRuns: 35_000 },
    );
  });

  test('random soups of protocol tokens (reach deep into the parser)', () => {
    const token = fc.constantFrom(
      'VA ',
      'VA 3',
      'VA 4097',
      'HD',
      'EN',
      'NS',
      'MN',
      'ME',
      ' O1',
      ' O',
      ' c',
      ' c12',
      ' t-1',
      ' t-',
      ' f5',
      ' W',
      ' k=',
      '\r\n',
      '\r',
      '\n',
      '3',
      '0',
      ' ',
      'bar',
      'END',
      'STAT x',
      'VERSION ',
      'CLIENT_ERROR ',
      '\x00',
      '\xff',
      '99999999999',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), cutsArb, (parts, fractions) => {
        const buf = Buffer.from(parts.join(''), 'latin1');
        fuzzCases++;
        const whole = fuzzOne(buf, []);
        const split = fuzzOne(buf, toCuts(fractions, buf.length));
        assert.deepEqual(split, whole);
      }),
      { numRuns: 20_000 },
    );
  });

  test('a VA header announcing more than maxValueBytes (up to 1 GiB) starts a skip, never an allocation', () => {
    const before = process.memoryUsage().arrayBuffers;
    fc.assert(
      fc.property(
        fc.integer({ min: FUZZ_MAX_VALUE + 1, max: 1024 * 1024 * 1024 }),
        flagsArb,
        (size, flags) => {
          const header = Buffer.from(`VA ${size}${flags.map((f) => ` ${f.token}`).join('')}\r\n`, 'latin1');
          fuzzCases++;
          const rec = recorder(FUZZ_MAX_VALUE);
          rec.parser.feed(header);
          assert.deepEqual(rec.errors, []);
          assert.deepEqual(rec.responses, []);
          assert.equal(rec.parser.hasPartial, true);
          assert.equal(rec.parser.directTarget(1), null);
        },
      ),
      { numRuns: 2000 },
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });

  test('a VA header announcing more than 1 GiB is an error', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024 * 1024 * 1024 + 1, max: 99_999_999_999 }),
        flagsArb,
        (size, flags) => {
          const header = Buffer.from(`VA ${size}${flags.map((f) => ` ${f.token}`).join('')}\r\n`, 'latin1');
          fuzzCases++;
          const outcome = fuzzOne(header, []);
          assert.deepEqual(outcome, { responses: [], errors: 1 });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
