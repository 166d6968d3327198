// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { notFollowedByCrlf } from './quoteBytes.js';

const CR = 13;
const LF = 10;

/**
 * A data block — a value and its CRLF — arriving over several chunks, for both reply parsers
 * (meta `VA`, text `VALUE`). Buffered once into a buffer of its final size, so a value spread
 * over many reads costs O(n), not O(n²), and a transport may read the rest of it in place
 * (`directTarget`); or, when larger than the reader's limit, skipped without any allocation. The
 * CRLF is checked wherever the chunks split it. Pure: the parser says when a block starts and
 * takes its value when it is done.
 */
export class DataBlockReader {
  private target: Buffer | null = null;
  private filled = 0;
  /** Bytes of a skipped block, its CRLF included, still to come; 0 when not skipping. */
  private skipRemaining = 0;
  private ended = false;
  /** Why the block is bad (its CRLF missing), once it ended so; null otherwise. */
  failure: string | null = null;

  /** True from `buffer`/`skip` until `take`: the block is arriving, or has ended and waits to be taken. */
  get active(): boolean {
    return this.target !== null || this.skipRemaining > 0 || this.ended;
  }

  /** True when every byte of the block has arrived (or it failed: see `failure`). */
  get done(): boolean {
    return this.ended;
  }

  /** Starts a block of `size` bytes (and its CRLF) to keep. */
  buffer(size: number): void {
    this.target = Buffer.allocUnsafe(size + 2);
    this.filled = 0;
  }

  /** Starts a block of `size` bytes (and its CRLF) to skip: `take` will give null. */
  skip(size: number): void {
    this.skipRemaining = size + 2;
  }

  /** Consumes what the block still needs of `chunk[start, end)`; returns the position after it. */
  consume(chunk: Buffer, start: number, end: number): number {
    if (this.skipRemaining > 0) return this.skipPart(chunk, start, end);
    const target = this.target;
    if (target === null || this.ended) return start;
    const used = Math.min(target.length - this.filled, end - start);
    chunk.copy(target, this.filled, start, start + used);
    this.filled += used;
    if (this.filled === target.length) this.end();
    return start + used;
  }

  /**
   * Where the next read may land directly: the unfilled rest of a kept block with at least
   * `minBytes` still to come, or null (none, too little left, or a skipped block).
   */
  directTarget(minBytes: number): Buffer | null {
    const target = this.target;
    if (target === null || this.ended || target.length - this.filled < minBytes) return null;
    return target.subarray(this.filled);
  }

  /** `bytes` were read straight into the buffer `directTarget()` returned. */
  receivedDirect(bytes: number): void {
    const target = this.target;
    if (target === null || this.ended) return;
    this.filled += bytes;
    if (this.filled === target.length) this.end();
  }

  /** The ended block's value (without its CRLF), or null for a skipped one; the reader is idle again. */
  take(): Buffer | null {
    const target = this.target;
    this.reset();
    return target === null ? null : target.subarray(0, target.length - 2);
  }

  reset(): void {
    this.target = null;
    this.filled = 0;
    this.skipRemaining = 0;
    this.ended = false;
    this.failure = null;
  }

  private end(): void {
    const target = this.target!;
    const size = target.length - 2;
    if (target[size] !== CR || target[size + 1] !== LF)
      this.failure = notFollowedByCrlf(target.subarray(size));
    this.ended = true;
  }

  private skipPart(chunk: Buffer, start: number, chunkEnd: number): number {
    const remaining = this.skipRemaining;
    const end = start + Math.min(remaining, chunkEnd - start);
    const cr = start + remaining - 2;
    if (
      (cr >= start && cr < end && chunk[cr] !== CR) ||
      (cr + 1 >= start && cr + 1 < end && chunk[cr + 1] !== LF)
    ) {
      this.failure = notFollowedByCrlf(chunk.subarray(Math.max(cr, start), Math.min(cr + 2, end)));
      this.skipRemaining = 0;
      this.ended = true;
      return end;
    }
    this.skipRemaining = remaining - (end - start);
    if (this.skipRemaining === 0) this.ended = true;
    return end;
  }
}
