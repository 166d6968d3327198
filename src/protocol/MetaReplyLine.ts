// The fields of one meta reply line, decoded for ResponseParser (which frames the stream: lines,
// data blocks, what a read left unfinished): its status word and the flags this client asks for.
// Pure functions over the bytes; the hot path of every reply.
//
// A space is the literal 32 here, not a module constant: optimized code loads a module's `const`
// from its context and checks it, per byte scanned (~84 instructions per `VA … f c t O` reply,
// callgrind on the parser alone).

import type { MetaResponse } from './MetaResponse.js';
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

/** `Buffer#latin1Slice`: on every Buffer since Node 0.x, left out of its type declarations. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Decodes the flags this client uses; returns false when a numeric flag is malformed. One pass
 * over the bytes: each token is read as it is scanned (`decimalAt` leaves its end in `tokenEnd`).
 */
export function parseFlags(buf: Buffer, start: number, end: number, response: MetaResponse): boolean {
  let p = start;
  while (p < end) {
    const flag = buf[p]!;
    if (flag === 32) {
      p++;
      continue;
    }
    switch (flag) {
      case 79: // O opaque
        response.opaque = decimalAt(buf, p + 1, end);
        if (response.opaque < 0) return false;
        break;
      case 102: // f client flags
        response.clientFlags = decimalAt(buf, p + 1, end);
        if (response.clientFlags < 0) return false;
        break;
      case 116: // t ttl, -1 means no expiry
        if (buf[p + 1] === 45 && buf[p + 2] === 49 && (p + 3 === end || buf[p + 3] === 32)) {
          response.ttl = -1;
          tokenEnd = p + 3;
        } else {
          response.ttl = decimalAt(buf, p + 1, end);
          if (response.ttl < 0) return false;
        }
        break;
      case 99: {
        // c cas: a uint64, kept as its decimal text. Up to 15 digits (a counter of writes: at a
        // million a second, 30 years) it is read as a number and printed back, which costs less
        // than a slice of the buffer (a C++ call: ~300 instructions per get, callgrind); longer,
        // it is sliced as it is (Node's own slice, without `toString`'s argument handling).
        const cas = decimalAt(buf, p + 1, end);
        if (cas >= 0 && buf[p + 1] !== 48) {
          response.cas = `${cas}`;
          break;
        }
        tokenEnd = spaceOrEnd(buf, p + 1, end);
        if (tokenEnd === p + 1) return false;
        response.cas = (buf as unknown as Latin1Slicer).latin1Slice(p + 1, tokenEnd);
        break;
      }
      case 87: // W
        response.win = true;
        tokenEnd = spaceOrEnd(buf, p + 1, end);
        break;
      case 88: // X
        response.stale = true;
        tokenEnd = spaceOrEnd(buf, p + 1, end);
        break;
      case 90: // Z
        response.winSent = true;
        tokenEnd = spaceOrEnd(buf, p + 1, end);
        break;
      default:
        tokenEnd = spaceOrEnd(buf, p + 1, end); // flags we did not ask for are ignored
        break;
    }
    p = tokenEnd;
  }
  return true;
}

/** Where the token `decimalAt` or `spaceOrEnd` just read ends. */
let tokenEnd = 0;

function spaceOrEnd(buf: Buffer, start: number, end: number): number {
  let p = start;
  while (p < end && buf[p] !== 32) p++;
  return p;
}

/**
 * The non-negative decimal (at most 15 digits) that starts at `start` and ends at a space or
 * `end`, and its end in `tokenEnd`; -2 when it is not one.
 */
function decimalAt(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let p = start;
  for (; p < end; p++) {
    const byte = buf[p]!;
    if (byte === 32) break;
    const digit = byte - 48;
    if (digit < 0 || digit > 9) return -2;
    n = n * 10 + digit;
  }
  tokenEnd = p;
  return p === start || p - start > 15 ? -2 : n;
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
