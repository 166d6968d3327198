import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { opaqueLineEnd } from '../../src/protocol/opaqueLineEnd.js';
import { OPAQUE_LIMIT } from '../../src/transport/Request.js';

// The thousands are kept from one call to the next: every order of calls must still give each
// opaque's own text, whatever came before it.
const expected = (opaque: number) => ` O${opaque}\r\n`;

describe('opaqueLineEnd', () => {
  test('counting up across thousands, from 0 to the wrap of the opaque counter and back', () => {
    for (let opaque = 0; opaque < 3_500; opaque++) assert.equal(opaqueLineEnd(opaque), expected(opaque));
    for (let opaque = OPAQUE_LIMIT - 2_100; opaque < OPAQUE_LIMIT; opaque++)
      assert.equal(opaqueLineEnd(opaque), expected(opaque));
    for (const opaque of [1, 999, 1000, 1001, 2000, 1999, 10_000, 100_000_000, OPAQUE_LIMIT - 1, 1000])
      assert.equal(opaqueLineEnd(opaque), expected(opaque));
  });

  test('any sequence of opaques, in any order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: OPAQUE_LIMIT - 1 }), { minLength: 1, maxLength: 50 }),
        (opaques) => {
          for (const opaque of opaques) assert.equal(opaqueLineEnd(opaque), expected(opaque));
        },
      ),
    );
  });
});
