// Imported: the global `Buffer` is an accessor on globalThis, a getter call on every use.
import { Buffer } from 'node:buffer';

/** Makes a `Buffer` over `length` bytes of `memory` at `offset`: a view, no copy. */
export type BufferViewClass = new (memory: ArrayBuffer, offset: number, length: number) => Buffer;

/**
 * The class to make a value's view with: Node's own class behind every `Buffer` (`FastBuffer`),
 * which `Buffer[Symbol.species]` names for the typed-array methods (`subarray`, `map`) to build
 * their results with. `new` of it makes what `Buffer.from(memory, offset, length)` makes, without
 * `from`'s argument handling: a C++ call to tell an ArrayBuffer, and its length read back (~240
 * instructions per value, callgrind). `species` is only for tests: where it does not make such a
 * view (a Node that names `Buffer` itself, whose constructor is deprecated), `Buffer.from` does.
 */
export function bufferViewClass(species: unknown = Reflect.get(Buffer, Symbol.species)): BufferViewClass {
  if (species !== Buffer && typeof species === 'function') {
    try {
      const memory = new ArrayBuffer(3);
      const probe: unknown = new (species as BufferViewClass)(memory, 1, 1);
      if (Buffer.isBuffer(probe) && probe.buffer === memory && probe.byteOffset === 1 && probe.length === 1)
        return species as BufferViewClass;
    } catch {
      // not a view class: the fallback below
    }
  }
  return BufferFromView;
}

/** The fallback: a constructor whose `new` returns `Buffer.from`'s view. */
const BufferFromView = function BufferFromView(memory: ArrayBuffer, offset: number, length: number): Buffer {
  return Buffer.from(memory, offset, length);
} as unknown as BufferViewClass;
