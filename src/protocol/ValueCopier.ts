// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';
import { bufferViewClass } from './bufferView.js';

/** Values up to this size share slabs; a larger one gets a buffer of its own. */
export const SLAB_VALUE_BYTES = 4 * 1024;
/** A slab's size: what one held small value can keep alive, as with Node's own Buffer pool. */
export const SLAB_BYTES = 8 * 1024;

/**
 * Copies the values complete in a read out of the connection's read buffer, which the next read
 * overwrites. Each value is copied once.
 *
 * Small values are not copied one by one: the first of a run copies the rest of the read (as
 * much as the slab has room for) into a slab, and it and the values after it are views of that
 * copy. A copy of its own per value cost two typed arrays (the value's and a view of its source
 * bytes), a `set` and `allocUnsafe`'s checks; a view costs one typed array (callgrind: a getMany
 * of 100 keys 443,000 → 417,000 instructions, a pipelined get 7,624 → 7,459; one call at a time,
 * about the same; then, made without `Buffer.from`'s checks (bufferView.ts), 407,270 → 384,742
 * and 7,403 → 7,150). Bytes copied past the last value handed out are not kept: the next run
 * copies over them. Like a slice of Node's pool, a small value's `buffer` is shared with others;
 * unlike one, its `byteOffset` is where it sat in the read, not a multiple of 8.
 */
export class ValueCopier {
  private slabBytes: Uint8Array = newSlab();
  private slab = this.slabBytes.buffer as ArrayBuffer;
  /** Bytes of the slab held by values handed out. */
  private used = 0;
  /** The read buffer the run was copied from and its bytes [runStart, runEnd), at `runAt` in the slab. */
  private runOf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runAt = 0;
  /**
   * The memory under the read buffer and where the buffer starts in it, read once per buffer (a
   * Buffer's `buffer` is a C++ builtin call; a connection reads into one buffer for its life).
   */
  private memoryOf: Buffer | null = null;
  private memory: ArrayBuffer | null = null;
  private memoryOffset = 0;

  /** A new read is about to be parsed: what the buffer held before is gone. */
  newRead(): void {
    this.runOf = null;
  }

  /** The `size` bytes at `pos` of `buf`, whose bytes are this read's up to `end` (≥ pos + size). */
  copy(buf: Buffer, pos: number, size: number, end: number): Buffer {
    if (this.memoryOf !== buf) {
      this.memory = buf.buffer as ArrayBuffer;
      this.memoryOffset = buf.byteOffset;
      this.memoryOf = buf;
    }
    if (size > SLAB_VALUE_BYTES) {
      const value = Buffer.allocUnsafe(size);
      // TypedArray#set from a plain Uint8Array over just the value's bytes: Buffer#copy's
      // argument handling, and reading a Buffer's `buffer`/`byteOffset`, were generic property
      // loads on every value (~900 and ~550 instructions per small value, measured with
      // callgrind), and `subarray` looks up the species constructor (Node's Buffer subclass
      // disables V8's shortcut for it): ~300 more.
      value.set(new Uint8Array(this.memory!, this.memoryOffset + pos, size));
      return value;
    }
    if (this.runOf !== buf || pos < this.runStart || pos + size > this.runEnd)
      this.copyRun(buf, pos, size, end);
    const at = this.runAt + (pos - this.runStart);
    if (at + size > this.used) this.used = at + size;
    return new BufferView(this.slab, at, size);
  }

  /** Copies `buf[pos, end)`, or as much of it as the slab has room for (at least `size`). */
  private copyRun(buf: Buffer, pos: number, size: number, end: number): void {
    if (SLAB_BYTES - this.used < size) {
      this.slabBytes = newSlab();
      this.slab = this.slabBytes.buffer as ArrayBuffer;
      this.used = 0;
    }
    const length = Math.min(end - pos, SLAB_BYTES - this.used);
    this.slabBytes.set(new Uint8Array(this.memory!, this.memoryOffset + pos, length), this.used);
    this.runOf = buf;
    this.runStart = pos;
    this.runEnd = pos + length;
    this.runAt = this.used;
  }
}

/** How a small value's view of its slab is made (chosen once: one class for every call site). */
const BufferView = bufferViewClass();

/** Not zero-filled: every byte handed out is copied in first. */
function newSlab(): Uint8Array {
  return Buffer.allocUnsafeSlow(SLAB_BYTES);
}
