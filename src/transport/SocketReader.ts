// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';

/** What the reader hands received bytes to: the meta or the text reply parser. */
export interface ReadSink {
  /** Parses `chunk[0, end)`. */
  feed(chunk: Buffer, end: number): void;
  /** The unfilled rest of a value still arriving, when at least `minBytes` of it are missing. */
  directTarget(minBytes: number): Buffer | null;
  /** `bytes` were read straight into the buffer `directTarget()` returned. */
  receivedDirect(bytes: number): void;
}

/** Bytes read from the socket in one go, into one buffer reused for the connection's life. */
export const READ_BUFFER_BYTES = 256 * 1024;
/** A value with at least this much still to come is read in place. */
export const DIRECT_READ_BYTES = 64 * 1024;
/** A value with at least this much still to come after a read is huge: see `SocketReader`. */
export const HUGE_VALUE_BYTES = 192 * 1024;
/** The read after a huge value: the next reply's header and the start of its value. */
export const WINDOW_BYTES = 16 * 1024;

/**
 * Chooses where each socket read lands (`onread`): a buffer reused for the connection's life,
 * whose bytes the parser copies out, or — while a value with at least `DIRECT_READ_BYTES` to come
 * is arriving — that value's own buffer, so those bytes are copied once, by the kernel. Where
 * bytes land never changes what the parser sees: the same stream, in order.
 *
 * Huge values (at least `HUGE_VALUE_BYTES` still to come after a read into the buffer) take two
 * reads each anyway, one into the buffer and one in place; the read after one is then only a
 * window of the buffer, so the next value's first bytes, not its first 256 KB, are copied (500 KB
 * values: 16 KB copied per value instead of 256 KB; 300 KB–500 KB gets measured 12–25 % less
 * main-thread CPU). The first read that finds no huge value arriving goes back to the whole buffer.
 *
 * The window was measured and rejected for smaller values: with 100 KB values it means two reads
 * per value instead of one per 2.5 values, and the extra reads cost more main-thread CPU (94 vs
 * 63 µs per get) than the copies they saved.
 */
export class SocketReader {
  private readonly buffer: Buffer;
  private readonly window: Buffer;
  /** The last read into the buffer left a huge value arriving: the next reply likely has one too. */
  private huge = false;
  /** The read asked for last goes into a value's buffer (`directTarget`). */
  private direct = false;
  /** After the last read, a value's bytes are still on their way (see `midReply`). */
  private partial = false;

  constructor(private readonly sink: ReadSink) {
    this.buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.window = this.buffer.subarray(0, WINDOW_BYTES);
  }

  /**
   * True when the last read ended inside a value being kept: more of that reply is certainly
   * coming, and any reply to a request written now comes after it.
   */
  get midReply(): boolean {
    return this.partial;
  }

  /** Where the next read goes (asked before every read). */
  next(): Buffer {
    const huge = this.huge;
    const target = this.sink.directTarget(huge ? WINDOW_BYTES : DIRECT_READ_BYTES);
    this.direct = target !== null;
    return target ?? (huge ? this.window : this.buffer);
  }

  /** `bytes` were read into the buffer `next()` returned last. */
  read(bytes: number): void {
    // The bytes read, without a `subarray` per read (the parser bounds itself by `bytes`).
    if (this.direct) this.sink.receivedDirect(bytes);
    else {
      this.sink.feed(this.buffer, bytes);
      this.huge = this.sink.directTarget(HUGE_VALUE_BYTES) !== null;
    }
    this.partial = this.sink.directTarget(1) !== null;
  }
}
