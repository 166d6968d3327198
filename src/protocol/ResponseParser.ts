// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { ProtocolError } from '../component/errors.js';
import { DataBlockReader } from './DataBlockReader.js';
import { MetaLineRead, readMetaLine, twoLetterStatus, wordStatus } from './MetaReplyLine.js';
import { type MetaResponse, metaResponse } from './MetaResponse.js';
import { notFollowedByCrlf, quoteBytes } from './quoteBytes.js';
import { ResponseStatus } from './ResponseStatus.js';
import { ValueCopier } from './ValueCopier.js';

const CR = 13;
const LF = 10;
// A space is the literal 32, as in MetaReplyLine.ts (per byte, a module constant is a context load).

/** A header line longer than this without CRLF is not memcached talking. */
const MAX_LINE_BYTES = 8192;

/**
 * Largest `VA` size taken as real (1 GiB; memcached's own item size cap is far below). A bigger
 * size is garbage and fails the stream; a size between the reader's limit and this is skipped.
 */
export const MAX_SANE_VALUE_BYTES = 1024 * 1024 * 1024;

export interface ResponseHandler {
  onResponse(response: MetaResponse): void;
  onError(error: ProtocolError): void;
}

/**
 * Incremental parser for meta-protocol responses (plus VERSION, STAT/END, OK, STORED and the
 * error lines). Feed it chunks split at any byte; it calls `onResponse` once per complete
 * response, in order. Pure: no sockets, no timers.
 *
 * Large values are copied once into a buffer of their final size as chunks arrive, so a value
 * spread over many reads costs O(n), not O(n²). A value larger than the reader's limit is not
 * buffered at all: its data block is skipped and the response is delivered with `value` null and
 * `oversizeBytes` set to its size, so the stream stays usable. Any malformed input calls
 * `onError` once and the parser then ignores everything: a stream that lost its framing cannot be
 * trusted again.
 */
export class ResponseParser {
  /** Bytes of an incomplete header line carried over from the previous chunk. */
  private rest: Buffer | null = null;
  /** The `VA` response whose data block is still arriving (being buffered or skipped). */
  private valueResponse: MetaResponse | null = null;
  /** That data block, when it spans chunks (or is skipped). */
  private readonly block = new DataBlockReader();
  /** What `readMetaLine` found besides the response (the line's end, a `VA`'s size, a problem). */
  private readonly line = new MetaLineRead();
  private stopped = false;
  /** Copies values out of the read they arrived in. */
  private readonly values = new ValueCopier();
  /** A `VA` size above this is garbage and fails the stream. */
  private readonly maxSaneBytes: number;

  constructor(
    private readonly handler: ResponseHandler,
    /**
     * The reader's limit: the largest data block buffered and delivered (callers pass the
     * configured max value size plus some slack). A bigger one, up to `MAX_SANE_VALUE_BYTES`, is
     * skipped without allocation and delivered with `oversizeBytes` set; beyond that (or beyond
     * this limit, if it is higher) the size is garbage and fails the stream.
     */
    private readonly maxValueBytes = MAX_SANE_VALUE_BYTES,
  ) {
    this.maxSaneBytes = Math.max(maxValueBytes, MAX_SANE_VALUE_BYTES);
  }

  /** True after a protocol error or `stop()`: further input is ignored. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops parsing, e.g. when the owner destroyed the connection from inside a callback. */
  stop(): void {
    this.stopped = true;
    this.rest = null;
    this.valueResponse = null;
    this.block.reset();
  }

  /** True while a response is only partly received (an oversize value being skipped included). */
  get hasPartial(): boolean {
    return this.rest !== null || this.block.active;
  }

  /**
   * Parses `chunk[0, end)` (the whole chunk by default): a transport reading into one reused
   * buffer passes the bytes read instead of a `subarray` per read. Nothing of `chunk` is kept.
   */
  feed(chunk: Buffer, end = chunk.length): void {
    if (this.stopped || end === 0) return;
    this.values.newRead();
    let pos = 0;
    if (this.rest !== null) {
      // Complete the split line from the start of this chunk only: concatenating the whole
      // chunk would copy up to 64 KB every time a header straddles a read boundary.
      let lf = chunk.indexOf(LF);
      if (lf >= end) lf = -1;
      if (lf === -1) {
        if (this.rest.length + end > MAX_LINE_BYTES)
          return this.fail(`a response line is longer than 8 KB: ${quoteBytes(this.rest)}`);
        this.rest = Buffer.concat([this.rest, chunk.subarray(0, end)]);
        return;
      }
      const line = Buffer.concat([this.rest, chunk.subarray(0, lf + 1)]);
      this.rest = null;
      this.parse(line, 0, line.length);
      pos = lf + 1;
      if (this.stopped) return;
    }
    if (this.block.active) {
      pos = this.block.consume(chunk, pos, end);
      if (!this.blockEnded()) return;
    }
    this.parse(chunk, pos, end);
  }

  private parse(buf: Buffer, start: number, len: number): void {
    let pos = start;
    while (pos < len && !this.stopped) {
      // Nearly every line is a two-letter meta reply: read in one pass that finds its CRLF as it
      // goes. Anything else (a word line, a line not all here yet, a malformed one) is read again
      // once its end is known.
      let response = readMetaLine(buf, pos, len, this.maxSaneBytes, this.line);
      if (response !== null) {
        pos = this.line.cr + 2;
      } else {
        let lf = buf.indexOf(LF, pos);
        // Bytes past `len` are an earlier read's: not this stream's yet.
        if (lf >= len) lf = -1;
        if (lf === -1) {
          if (len - pos > MAX_LINE_BYTES)
            return this.fail(`a response line is longer than 8 KB: ${quoteBytes(buf.subarray(pos, len))}`);
          // Copy: a subarray would keep the whole socket chunk alive.
          this.rest = Buffer.from(buf.subarray(pos, len));
          return;
        }
        if (lf === pos || buf[lf - 1] !== CR)
          return this.fail(
            `a response line does not end with CRLF: ${quoteBytes(buf.subarray(pos, lf + 1))}`,
          );
        const other = this.otherLine(buf, pos, lf - 1);
        if (other === null) return;
        response = other;
        pos = lf + 1;
      }
      if (response.status !== ResponseStatus.Value) {
        this.handler.onResponse(response);
        continue;
      }
      const size = this.line.valueSize;
      if (size > this.maxValueBytes) {
        response.oversizeBytes = size;
        this.valueResponse = response;
        this.block.skip(size);
        pos = this.block.consume(buf, pos, len);
        if (!this.blockEnded()) return;
        continue;
      }
      if (len - pos >= size + 2) {
        if (buf[pos + size] !== CR || buf[pos + size + 1] !== LF) {
          return this.fail(notFollowedByCrlf(buf.subarray(pos + size, pos + size + 2)));
        }
        response.value = this.values.copy(buf, pos, size, len);
        pos += size + 2;
        this.handler.onResponse(response);
      } else {
        // The rest arrives in later reads (or straight into the block: see directTarget).
        this.valueResponse = response;
        this.block.buffer(size);
        this.block.consume(buf, pos, len);
        return;
      }
    }
  }

  /**
   * Where the next read may land directly: the unfilled rest of a value of at least `minBytes`
   * still to come, or null. Lets the transport read large values in place, with no copy. Null
   * while an oversize value is skipped: there is no buffer to read it into.
   */
  directTarget(minBytes: number): Buffer | null {
    return this.stopped ? null : this.block.directTarget(minBytes);
  }

  /** `bytes` were read straight into the buffer `directTarget()` returned. */
  receivedDirect(bytes: number): void {
    if (this.stopped) return;
    this.block.receivedDirect(bytes);
    this.blockEnded();
  }

  /**
   * Delivers the response whose data block just ended (value kept, or skipped as oversize), or
   * fails a block without its CRLF. False while the block goes on, or after failing.
   */
  private blockEnded(): boolean {
    const block = this.block;
    if (!block.done) return false;
    if (block.failure !== null) {
      this.fail(block.failure);
      return false;
    }
    const response = this.valueResponse!;
    this.valueResponse = null;
    const value = block.take();
    if (value !== null) response.value = value;
    this.handler.onResponse(response);
    return !this.stopped;
  }

  /**
   * The line `buf[start, end)` (without its CRLF) that `readMetaLine` did not read: a malformed meta
   * line fails, an `ME` line keeps its text, any other is a word line. Null after failing.
   */
  private otherLine(buf: Buffer, start: number, end: number): MetaResponse | null {
    const problem = this.line.problem;
    if (problem !== '') {
      this.fail(`${problem}: ${quoteBytes(buf.subarray(start, end))}`);
      return null;
    }
    const length = end - start;
    if (
      length >= 2 &&
      (length === 2 || buf[start + 2] === 32) &&
      twoLetterStatus(buf[start]!, buf[start + 1]!) === ResponseStatus.Debug
    ) {
      const response = metaResponse(ResponseStatus.Debug);
      response.text = buf.toString('latin1', Math.min(start + 3, end), end);
      return response;
    }
    return this.parseWordLine(buf.toString('latin1', start, end));
  }

  private parseWordLine(line: string): MetaResponse | null {
    const space = line.indexOf(' ');
    const status = wordStatus(space === -1 ? line : line.slice(0, space));
    if (status === 0) {
      this.fail(`an unexpected response line was received: ${quoteBytes(line)}`);
      return null;
    }
    const response = metaResponse(status);
    response.text = space === -1 ? '' : line.slice(space + 1);
    return response;
  }

  private fail(reason: string): void {
    this.stop();
    this.handler.onError(new ProtocolError(`Malformed response from server: ${reason}`));
  }
}
