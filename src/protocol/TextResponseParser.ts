import { ProtocolError } from '../component/errors.js';
import { DataBlockReader } from './DataBlockReader.js';
import { quoteBytes } from './quoteBytes.js';
import { MAX_SANE_VALUE_BYTES } from './ResponseParser.js';
import { TextReply, TextStatus, TextValue } from './TextReply.js';

const CR = 13;
const LF = 10;

/** A reply line longer than this without CRLF is not memcached (or twemproxy) talking. */
const MAX_LINE_BYTES = 8192;

const UINT32_MAX = 0xffff_ffff;
const UINT64_MAX = 2n ** 64n - 1n;
const DIGITS = /^\d+$/;

export interface TextReplyHandler {
  onReply(reply: TextReply): void;
  onError(error: ProtocolError): void;
}

/**
 * Incremental parser for classic text-protocol replies. Feed it chunks split at any byte; it
 * calls `onReply` once per request's reply, in order: a single line (STORED, NOT_FOUND, a number,
 * VERSION, an error line…), or for a get the VALUE blocks up to END, gathered into one reply. It
 * needs no knowledge of the requests: every reply form is self-delimiting. Pure: no sockets, no
 * timers.
 *
 * As in the meta parser, a value spread over many chunks is copied once into a buffer of its
 * final size (O(n)), and a value larger than the reader's limit is not buffered: its data block
 * is skipped and reported on its own VALUE (`value` null, `oversizeBytes` set), the other keys of
 * the reply unaffected. Malformed input — and an error line inside a VALUE group, after which no
 * one can tell whether END still follows — calls `onError` once; the parser then ignores
 * everything.
 */
export class TextResponseParser {
  /** Bytes of an incomplete line carried over from the previous chunk. */
  private rest: Buffer | null = null;
  /** The get reply whose VALUE blocks are arriving (until END); null between replies. */
  private group: TextReply | null = null;
  /** The VALUE whose data block is still arriving (being buffered or skipped). */
  private pending: TextValue | null = null;
  /** That data block. */
  private readonly block = new DataBlockReader();
  private stopped = false;
  private readonly maxSaneBytes: number;

  constructor(
    private readonly handler: TextReplyHandler,
    /**
     * The reader's limit: the largest data block buffered and delivered. A bigger one, up to
     * `MAX_SANE_VALUE_BYTES`, is skipped without allocation; beyond that the size is garbage and
     * fails the stream.
     */
    private readonly maxValueBytes = MAX_SANE_VALUE_BYTES,
  ) {
    this.maxSaneBytes = Math.max(maxValueBytes, MAX_SANE_VALUE_BYTES);
  }

  /** True after a protocol error or `stop()`: further input is ignored. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** True while a reply is only partly received (a get reply not yet ended by END included). */
  get hasPartial(): boolean {
    return this.rest !== null || this.group !== null;
  }

  /** Where the next read may land directly: the rest of a large value still to come, or null. */
  directTarget(minBytes: number): Buffer | null {
    return this.stopped ? null : this.block.directTarget(minBytes);
  }

  /** `bytes` were read straight into the buffer `directTarget()` returned. */
  receivedDirect(bytes: number): void {
    if (this.stopped) return;
    this.block.receivedDirect(bytes);
    this.blockEnded();
  }

  stop(): void {
    this.stopped = true;
    this.rest = null;
    this.group = null;
    this.pending = null;
    this.block.reset();
  }

  /** Parses `chunk[0, end)` (the whole chunk by default), as `ResponseParser.feed`. */
  feed(whole: Buffer, end = whole.length): void {
    if (this.stopped || end === 0) return;
    const chunk = end === whole.length ? whole : whole.subarray(0, end);
    let pos = 0;
    if (this.rest !== null) {
      // Complete the split line from the start of this chunk only (no copy of the whole chunk).
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        if (this.rest.length + chunk.length > MAX_LINE_BYTES)
          return this.fail(`a reply line is longer than 8 KB: ${quoteBytes(this.rest)}`);
        this.rest = Buffer.concat([this.rest, chunk]);
        return;
      }
      const line = Buffer.concat([this.rest, chunk.subarray(0, lf + 1)]);
      this.rest = null;
      pos = lf + 1;
      if (!this.line(line, 0, line.length - 1)) return;
      // A VALUE line completed from the carried-over bytes: its data block starts in this chunk.
      pos = this.data(chunk, pos);
      if (this.stopped) return;
    } else if (this.block.active) {
      pos = this.data(chunk, pos);
      if (this.stopped) return;
    }
    this.parse(chunk, pos);
  }

  private parse(buf: Buffer, start: number): void {
    const len = buf.length;
    let pos = start;
    while (pos < len && !this.stopped) {
      if (this.block.active) return; // the data block spans chunks
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        if (len - pos > MAX_LINE_BYTES)
          return this.fail(`a reply line is longer than 8 KB: ${quoteBytes(buf.subarray(pos))}`);
        // Copy: a subarray would keep the whole socket chunk alive.
        this.rest = Buffer.from(buf.subarray(pos));
        return;
      }
      if (!this.line(buf, pos, lf)) return;
      pos = this.data(buf, lf + 1);
    }
  }

  /**
   * Consumes what it can of a pending data block from `buf[start…]` (nothing when none is
   * pending); returns the position after what it used.
   */
  private data(buf: Buffer, start: number): number {
    if (!this.block.active) return start;
    const pos = this.block.consume(buf, start, buf.length);
    this.blockEnded();
    return pos;
  }

  /** The pending VALUE's data block ended: its value kept (null when skipped), or a failure. */
  private blockEnded(): void {
    const block = this.block;
    if (!block.done) return;
    if (block.failure !== null) return this.fail(block.failure);
    this.pending!.value = block.take();
    this.pending = null;
  }

  /**
   * Handles the line `buf[start, lf)` (its LF at `lf`); a VALUE line leaves its data block
   * pending. Returns false after failing.
   */
  private line(buf: Buffer, start: number, lf: number): boolean {
    if (lf === start || buf[lf - 1] !== CR) {
      this.fail(`a reply line does not end with CRLF: ${quoteBytes(buf.subarray(start, lf + 1))}`);
      return false;
    }
    const text = buf.toString('latin1', start, lf - 1);
    if (text.startsWith('VALUE ')) return this.valueLine(text);
    if (text === 'END') {
      const reply = this.group ?? newValues();
      this.group = null;
      this.handler.onReply(reply);
      return !this.stopped;
    }
    const reply = singleLine(text);
    if (reply === null) {
      this.fail(`an unexpected reply line was received: ${quoteBytes(text)}`);
      return false;
    }
    if (this.group !== null) {
      this.fail(`${quoteBytes(text)} was received inside a get reply, before its END`);
      return false;
    }
    this.handler.onReply(reply);
    return !this.stopped;
  }

  /** `VALUE <key> <flags> <bytes> [<cas>]`: opens (or continues) the get reply. */
  private valueLine(text: string): boolean {
    const parts = text.split(' ');
    if (parts.length !== 4 && parts.length !== 5) return this.bad(text);
    const [, key, flagsText, sizeText, cas] = parts as [string, string, string, string, string | undefined];
    if (key === '' || !DIGITS.test(flagsText) || !DIGITS.test(sizeText) || sizeText.length > 10)
      return this.bad(text);
    if (cas !== undefined && (!DIGITS.test(cas) || cas.length > 20 || BigInt(cas) > UINT64_MAX))
      return this.bad(text);
    const clientFlags = flagsText.length > 10 ? UINT32_MAX + 1 : Number(flagsText);
    const size = Number(sizeText);
    if (clientFlags > UINT32_MAX || size > this.maxSaneBytes) return this.bad(text);
    const value = new TextValue(key, clientFlags, cas ?? '');
    this.group ??= newValues();
    this.group.values!.push(value);
    this.pending = value;
    if (size > this.maxValueBytes) {
      value.oversizeBytes = size;
      this.block.skip(size);
    } else this.block.buffer(size);
    return true;
  }

  private bad(text: string): false {
    this.fail(`a VALUE line is malformed: ${quoteBytes(text)}`);
    return false;
  }

  private fail(reason: string): void {
    this.stop();
    this.handler.onError(new ProtocolError(`Malformed reply from server: ${reason}`));
  }
}

function newValues(): TextReply {
  const reply = new TextReply(TextStatus.Values);
  reply.values = [];
  return reply;
}

/** A one-line reply, or null when the line is none the text protocol sends. */
function singleLine(text: string): TextReply | null {
  switch (text) {
    case 'STORED':
      return new TextReply(TextStatus.Stored);
    case 'NOT_STORED':
      return new TextReply(TextStatus.NotStored);
    case 'EXISTS':
      return new TextReply(TextStatus.Exists);
    case 'NOT_FOUND':
      return new TextReply(TextStatus.NotFound);
    case 'DELETED':
      return new TextReply(TextStatus.Deleted);
    case 'TOUCHED':
      return new TextReply(TextStatus.Touched);
    case 'OK':
      return new TextReply(TextStatus.Ok);
    case 'ERROR':
      return new TextReply(TextStatus.Error);
  }
  if (DIGITS.test(text)) {
    if (text.length > 20) return null;
    const number = BigInt(text);
    if (number > UINT64_MAX) return null;
    const reply = new TextReply(TextStatus.Number);
    reply.number = number;
    return reply;
  }
  const space = text.indexOf(' ');
  if (space === -1) return null;
  const word = text.slice(0, space);
  const status =
    word === 'VERSION'
      ? TextStatus.Version
      : word === 'CLIENT_ERROR'
        ? TextStatus.ClientError
        : word === 'SERVER_ERROR'
          ? TextStatus.ServerError
          : word === 'ERROR'
            ? TextStatus.Error
            : 0;
  if (status === 0) return null;
  const reply = new TextReply(status);
  reply.text = text.slice(space + 1);
  return reply;
}
