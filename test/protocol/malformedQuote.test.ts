// Issue 23 part 6: a malformed reply quotes what was received (escaped, cut at 80 bytes), in both
// parsers, through the one quoteBytes helper; a value's bytes are never shown beyond the two
// where its CRLF was due.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quoteBytes } from '../../src/protocol/quoteBytes.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';
import { parseAll } from './collect.js';

/** The one error message the meta parser reports for `wire` (fed in one chunk). */
function metaError(wire: string | Buffer): string {
  const rec = parseAll(wire);
  assert.equal(rec.errors.length, 1, `one error for ${JSON.stringify(wire.toString())}`);
  return rec.errors[0]!.message;
}

function textError(wire: string): string {
  const errors: Error[] = [];
  const parser = new TextResponseParser({ onReply: () => {}, onError: (e) => errors.push(e) });
  parser.feed(Buffer.from(wire, 'latin1'));
  assert.equal(errors.length, 1);
  return errors[0]!.message;
}

describe('quoteBytes', () => {
  test('keeps printable ASCII, escapes quotes, backslashes, CR, LF, tab and other bytes as \\xNN', () => {
    assert.equal(
      quoteBytes(Buffer.from('HD "a\\b"\r\n\t\x00\xff', 'latin1')),
      '"HD \\"a\\\\b\\"\\r\\n\\t\\x00\\xff"',
    );
    assert.equal(quoteBytes('caf\xe9'), '"caf\\xe9"', 'a string is read as latin1');
  });

  test('shows at most 80 bytes, then …', () => {
    assert.equal(quoteBytes('x'.repeat(80)), `"${'x'.repeat(80)}"`);
    assert.equal(quoteBytes('x'.repeat(81)), `"${'x'.repeat(80)}"…`);
  });
});

describe('ResponseParser: every malformed response quotes the bytes received', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown line', 'HELLO world\r\n', 'an unexpected response line was received: "HELLO world"'],
    [
      'a control byte in a line',
      'BOGUS\x00\x1b\r\n',
      'an unexpected response line was received: "BOGUS\\x00\\x1b"',
    ],
    ['a bare LF', 'HD O1\n', 'a response line does not end with CRLF: "HD O1\\n"'],
    ['a bad VA size', 'VA 1x f0\r\n', 'a VA header has a bad size: "VA 1x f0"'],
    ['a missing VA size', 'VA  f0\r\n', 'a VA header has a bad size: "VA  f0"'],
    ['a malformed flag', 'HD Oabc\r\n', 'a response has a malformed flag: "HD Oabc"'],
    [
      'a value without its CRLF (only the two bytes where it was due)',
      'VA 3 f0\r\nsecretXY',
      'a value is not followed by CRLF: "re" where CRLF was due',
    ],
  ];
  for (const [name, wire, reason] of cases) {
    test(name, () => {
      assert.equal(metaError(wire), `Malformed response from server: ${reason}`);
    });
  }

  test('a value split over chunks: still only the bytes where the CRLF was due', () => {
    const rec = parseAll('VA 6 f0\r\nsecretXY\r\n', [12]);
    assert.equal(
      rec.errors[0]?.message,
      'Malformed response from server: a value is not followed by CRLF: "XY" where CRLF was due',
    );
  });

  test('a line over 8 KB is quoted by its first 80 bytes', () => {
    const message = metaError(`HD ${'k'.repeat(9000)}`);
    assert.equal(
      message,
      `Malformed response from server: a response line is longer than 8 KB: "HD ${'k'.repeat(77)}"…`,
    );
  });
});

describe('TextResponseParser: the same quoting', () => {
  test('an unknown line, a bare LF, a value without its CRLF', () => {
    assert.equal(
      textError('HELLO\r\n'),
      'Malformed reply from server: an unexpected reply line was received: "HELLO"',
    );
    assert.equal(
      textError('STORED\n'),
      'Malformed reply from server: a reply line does not end with CRLF: "STORED\\n"',
    );
    assert.equal(
      textError('VALUE k 0 6\r\nsecretXY\r\nEND\r\n'),
      'Malformed reply from server: a value is not followed by CRLF: "XY" where CRLF was due',
    );
  });
});
