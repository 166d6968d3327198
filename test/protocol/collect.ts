// Shared helpers for the protocol tests: a recording handler and a plain view of MetaResponse.
import type { ProtocolError } from '../../src/component/errors.js';
import type { MetaResponse } from '../../src/protocol/MetaResponse.js';
import { ResponseParser } from '../../src/protocol/ResponseParser.js';
import type { ResponseStatus } from '../../src/protocol/ResponseStatus.js';

/** MetaResponse as a plain object (value as hex) so deepStrictEqual can compare it. */
export type Plain = Omit<MetaResponse, 'value'> & { value: string | null };

export function plain(r: MetaResponse): Plain {
  return { ...r, value: r.value === null ? null : r.value.toString('hex') };
}

/** The defaults of a fresh MetaResponse, overridden by `fields`. */
export function expected(status: ResponseStatus, fields: Partial<Plain> = {}): Plain {
  return {
    status,
    value: null,
    oversizeBytes: -1,
    opaque: -1,
    cas: '',
    clientFlags: 0,
    ttl: -2,
    win: false,
    stale: false,
    winSent: false,
    text: '',
    ...fields,
  };
}

/** Everything a parser reported, in order, with the index of the response count when an error came. */
export interface Recording {
  parser: ResponseParser;
  responses: MetaResponse[];
  errors: ProtocolError[];
  /** Number of responses seen when each error was reported. */
  responsesAtError: number[];
}

export function recorder(maxValueBytes?: number): Recording {
  const rec: Recording = {
    parser: undefined as unknown as ResponseParser,
    responses: [],
    errors: [],
    responsesAtError: [],
  };
  rec.parser = new ResponseParser(
    {
      onResponse: (r) => {
        rec.responses.push(r);
      },
      onError: (e) => {
        rec.errors.push(e);
        rec.responsesAtError.push(rec.responses.length);
      },
    },
    maxValueBytes,
  );
  return rec;
}

/** Feeds `bytes` split at the given offsets (any order, duplicates give empty chunks). */
export function feedSplit(parser: ResponseParser, bytes: Buffer, cuts: readonly number[] = []): void {
  const sorted = cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)).sort((a, b) => a - b);
  let from = 0;
  for (const cut of sorted) {
    parser.feed(bytes.subarray(from, cut));
    from = cut;
  }
  parser.feed(bytes.subarray(from));
}

/** Parses `bytes` fed in one chunk (or split at `cuts`) and returns the plain responses. */
export function parseAll(bytes: Buffer | string, cuts: readonly number[] = []): Recording {
  const rec = recorder();
  feedSplit(rec.parser, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, cuts);
  return rec;
}
