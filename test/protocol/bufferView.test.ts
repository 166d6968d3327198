import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BufferViewClass, bufferViewClass } from '../../src/protocol/bufferView.js';

/** A view of bytes [1, 3) of a fresh 4-byte memory, made with `View`, and that memory. */
function viewOfMiddle(View: BufferViewClass): { view: Buffer; memory: ArrayBuffer } {
  const memory = new ArrayBuffer(4);
  new Uint8Array(memory).set([1, 2, 3, 4]);
  return { view: new View(memory, 1, 2), memory };
}

function assertIsView(View: BufferViewClass): void {
  const { view, memory } = viewOfMiddle(View);
  assert.ok(Buffer.isBuffer(view) && view instanceof Buffer, 'a Buffer');
  assert.deepEqual([view.buffer === memory, view.byteOffset, view.length], [true, 1, 2]);
  assert.equal(view.toString('hex'), '0203');
  view[0] = 9; // a view, not a copy: the memory sees the write
  assert.equal(new Uint8Array(memory)[1], 9);
  assert.ok(view.equals(Buffer.from([9, 3])));
}

describe('bufferViewClass', () => {
  test('on this Node it is the class behind Buffer (Buffer[Symbol.species]), making views', () => {
    const View = bufferViewClass();
    assert.equal(View, Reflect.get(Buffer, Symbol.species));
    assert.notEqual(View, Buffer);
    assertIsView(View);
  });

  test('where the species is not a view class, views still come (through Buffer.from)', () => {
    const notViews: unknown[] = [
      Buffer, // what a Node naming Buffer itself would give: its constructor is deprecated
      Uint8Array, // views, but not Buffers
      class Plain {},
      () => {
        throw new Error('not a constructor');
      },
      undefined,
      'FastBuffer',
    ];
    for (const species of notViews) {
      const View = bufferViewClass(species);
      assert.notEqual(View, species);
      assertIsView(View);
    }
  });
});
