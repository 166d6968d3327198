// Issue 11, item 7: `retrieve<T>()` and friends compile (0.1: TS2558, retrieve is not generic).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { typeProblems } from './typeProblems.js';

describe('typed values for TypeScript users', () => {
  it('retrieve<T>, store<T>, remove, retrieveMany and storeMany of MemcachedCache<V> type-check', () => {
    assert.deepEqual(typeProblems('typedValues.ts'), []);
  });
});
