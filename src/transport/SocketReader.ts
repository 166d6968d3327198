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

/**
 * Chooses where each socket read lands (`onread`): a buffer reused for the connection's life,
 * whose bytes the parser copies out, or — while a value with at least `DIRECT_READ_BYTES` to come
 * is arriving — that value's own buffer, so those bytes are copied once, by the kernel. Where
 * bytes land never changes what the parser sees: the same stream, in order.
 *
 * Reading each large value's rest in place and only headers into a small window (so no value
 * is copied in user space) was measured and rejected: two reads per 100 KB value instead of
 * one per 2.5 cost more main-thread CPU (94 vs 63 µs per get) than the copies it saved. Fewer,
 * fuller reads are cheaper here than fewer copies.
 */
export class SocketReader {
  private readonly buffer: Buffer;
  /** The read asked for last goes into a value's buffer (`directTarget`). */
  private direct = false;
  /** After the last read, a value's bytes are still on their way (see `midReply`). */
  private partial = false;

  constructor(
    private readonly sink: ReadSink,
    bufferBytes = READ_BUFFER_BYTES,
    private readonly directBytes = DIRECT_READ_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
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
    const target = this.sink.directTarget(this.directBytes);
    this.direct = target !== null;
    return target ?? this.buffer;
  }

  /** `bytes` were read into the buffer `next()` returned last. */
  read(bytes: number): void {
    // The bytes read, without a `subarray` per read (the parser bounds itself by `bytes`).
    if (this.direct) this.sink.receivedDirect(bytes);
    else this.sink.feed(this.buffer, bytes);
    this.partial = this.sink.directTarget(1) !== null;
  }
}
