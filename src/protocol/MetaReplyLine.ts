// One meta reply line read for ResponseParser (which frames the stream: lines, data blocks, what a
// read left unfinished): its status, a `VA`'s size and the flags this client asks for, up to the
// CRLF that ends it. Pure functions over the bytes; the hot path of every reply.
//
// A space, CR or LF is a literal here, not a module constant: optimized code loads a module's
// `const` from its context and checks it, per byte scanned (~84 instructions per `VA … f c t O`
// reply, callgrind on the parser alone).

import { latin1Slice } from './latin1Slice.js';
import { type MetaResponse, metaResponse } from './MetaResponse.js';
import { ResponseStatus } from './ResponseStatus.js';

/** The status of a two-letter reply line (`VA`, `HD`, `EN`…), or 0 when it is not one. */
export function twoLetterStatus(a: number, b: number): ResponseStatus | 0 {
  switch (a) {
    case 86: // V
      return b === 65 ? ResponseStatus.Value : 0; // VA
    case 72: // H
      return b === 68 ? ResponseStatus.Header : 0; // HD
    case 69: // E
      return b === 78 ? ResponseStatus.Miss : b === 88 ? ResponseStatus.Exists : 0; // EN, EX
    case 78: // N
      return b === 83 ? ResponseStatus.NotStored : b === 70 ? ResponseStatus.NotFound : 0; // NS, NF
    case 77: // M
      return b === 78 ? ResponseStatus.NoOp : b === 69 ? ResponseStatus.Debug : 0; // MN, ME
    default:
      return 0;
  }
}

/** What `readMetaLine` found besides the response; one per parser, overwritten line by line. */
export class MetaLineRead {
  /** Where the CR of the line just read is. */
  cr = 0;
  /** The size of a `VA` line's data block. */
  valueSize = 0;
  /** What is wrong with the line just given up on, '' when nothing is (see `readMetaLine`). */
  problem = '';
}

/**
 * Reads the two-letter meta reply line at `start` (`VA`, `HD`, `EN`…, `ME` aside) up to its CRLF,
 * which must come before `limit`: one pass that finds the line's end as it goes (no search for the
 * LF first). Leaves where its CR is, and a `VA`'s size, in `read`. Null for any other line, one not
 * all here yet, or a malformed one (what is wrong with it in `read.problem`): the parser reads
 * those again once their end is known. A `VA` size above `maxSaneBytes` is malformed.
 */
export function readMetaLine(
  buf: Buffer,
  start: number,
  limit: number,
  maxSaneBytes: number,
  read: MetaLineRead,
): MetaResponse | null {
  read.problem = '';
  if (limit - start < 4) return null;
  const status = twoLetterStatus(buf[start]!, buf[start + 1]!);
  if (status === 0 || status === ResponseStatus.Debug) return null;
  const response = metaResponse(status);
  let cr = start + 2;
  const third = buf[cr]!;
  if (third === 32) {
    let flagsStart = start + 3;
    if (status === ResponseStatus.Value) {
      let p = flagsStart;
      let size = 0;
      for (; p < limit; p++) {
        const digit = buf[p]! - 48;
        if (digit < 0 || digit > 9) break;
        size = size * 10 + digit;
      }
      if (p === limit) return null;
      if (p === flagsStart || p - flagsStart > 10 || size > maxSaneBytes || !endsToken(buf[p]!)) {
        read.problem = 'a VA header has a bad size';
        return null;
      }
      read.valueSize = size;
      flagsStart = p;
    }
    cr = parseFlags(buf, flagsStart, limit, response);
    if (cr === -1) {
      read.problem = 'a response has a malformed flag';
      return null;
    }
  } else if (third !== 13) {
    return null;
  } else if (status === ResponseStatus.Value) {
    read.problem = 'a VA header has a bad size';
    return null;
  }
  if (cr + 1 >= limit) return null;
  if (buf[cr + 1] !== 10) {
    read.problem = 'a response line has a CR before its end';
    return null;
  }
  read.cr = cr;
  return response;
}

/**
 * Decodes the flags this client uses, from `start` up to the CR that ends the line; returns where
 * that CR is, or -1 when a numeric flag is malformed or no CR comes before `limit` (the line is not
 * all here yet). One pass over the bytes, finding the line's end as it goes (no search for the LF
 * first): each token is read as it is scanned, and ends at a space or the CR. A token's reader
 * leaves in `next` where the next token may start: past the space after it, or at the CR, so
 * that a space costs no turn of the loop of its own (each turn loads and checks the buffer again).
 */
function parseFlags(buf: Buffer, start: number, limit: number, response: MetaResponse): number {
  let p = start;
  while (p < limit) {
    switch (buf[p]!) {
      case 13: // the CR: the line ends
        return p;
      case 32: // more than one space between flags, or after the VA size
        p++;
        continue;
      case 10: // an LF ends the line before its CR: malformed (see `tokenEndAt`)
        return -1;
      case 79: // O opaque
        response.opaque = decimalAt(buf, p + 1, limit);
        if (response.opaque < 0) return -1;
        break;
      case 102: // f client flags
        response.clientFlags = decimalAt(buf, p + 1, limit);
        if (response.clientFlags < 0) return -1;
        break;
      case 116: // t ttl, -1 means no expiry
        if (p + 3 < limit && buf[p + 1] === 45 && buf[p + 2] === 49) {
          response.ttl = -1;
          if (!ended(buf, p + 3, limit)) return -1;
        } else {
          response.ttl = decimalAt(buf, p + 1, limit);
          if (response.ttl < 0) return -1;
        }
        break;
      case 99: {
        // c cas: a uint64, kept as its decimal text. Up to 15 digits (a counter of writes: at a
        // million a second, 30 years) it is read as a number and printed back, which costs less
        // than a slice of the buffer (a C++ call: ~300 instructions per get, callgrind); longer,
        // it is sliced as it is (Node's own slice, without `toString`'s argument handling).
        const cas = decimalAt(buf, p + 1, limit);
        if (cas >= 0 && buf[p + 1] !== 48) {
          response.cas = `${cas}`;
          break;
        }
        const end = tokenEndAt(buf, p + 1, limit);
        if (end === p + 1 || !ended(buf, end, limit)) return -1;
        response.cas = latin1Slice(buf, p + 1, end);
        break;
      }
      case 87: // W
        response.win = true;
        if (!ended(buf, tokenEndAt(buf, p + 1, limit), limit)) return -1;
        break;
      case 88: // X
        response.stale = true;
        if (!ended(buf, tokenEndAt(buf, p + 1, limit), limit)) return -1;
        break;
      case 90: // Z
        response.winSent = true;
        if (!ended(buf, tokenEndAt(buf, p + 1, limit), limit)) return -1;
        break;
      default: // flags we did not ask for are ignored
        if (!ended(buf, tokenEndAt(buf, p + 1, limit), limit)) return -1;
        break;
    }
    p = next;
  }
  return -1;
}

/** Where the next token may start, left by the reader of the last one (see `parseFlags`). */
let next = 0;

/**
 * Whether a token ends at `end`, below `limit` (at a space or the CR), leaving in `next` where the
 * next token may start.
 */
function ended(buf: Buffer, end: number, limit: number): boolean {
  if (end >= limit) return false;
  const byte = buf[end]!;
  next = byte === 32 ? end + 1 : end;
  return endsToken(byte);
}

/** A space or the CR: what ends a token of a reply line. */
function endsToken(byte: number): boolean {
  return byte === 32 || byte === 13;
}

/**
 * Where the token at `start` ends: at a space, the CR, or `limit` (not all here yet); or at an LF,
 * which no token may hold: a line ends at its first LF, so a line read in one go and the same line
 * split across reads (where the LF is searched for) must both fail there.
 */
function tokenEndAt(buf: Buffer, start: number, limit: number): number {
  let p = start;
  for (; p < limit; p++) {
    const byte = buf[p]!;
    if (endsToken(byte) || byte === 10) break;
  }
  return p;
}

/**
 * The non-negative decimal (at most 15 digits) that starts at `start` and ends at a space or the
 * CR before `limit` (`next` then set as `ended` does); -2 when it is not one, or not all here yet.
 */
function decimalAt(buf: Buffer, start: number, limit: number): number {
  let n = 0;
  let p = start;
  for (; p < limit; p++) {
    const digit = buf[p]! - 48;
    if (digit < 0 || digit > 9) break;
    n = n * 10 + digit;
  }
  return p === start || p - start > 15 || !ended(buf, p, limit) ? -2 : n;
}

/** The status of a word reply line (`END`, `STAT`, `VERSION`, `OK`, `STORED`, the errors), or 0. */
export function wordStatus(word: string): ResponseStatus | 0 {
  switch (word) {
    case 'END':
      return ResponseStatus.End;
    case 'STAT':
      return ResponseStatus.Stat;
    case 'VERSION':
      return ResponseStatus.Version;
    case 'OK':
      return ResponseStatus.Ok;
    case 'STORED':
      return ResponseStatus.Stored;
    case 'ERROR':
      return ResponseStatus.Error;
    case 'CLIENT_ERROR':
      return ResponseStatus.ClientError;
    case 'SERVER_ERROR':
      return ResponseStatus.ServerError;
    default:
      return 0;
  }
}
