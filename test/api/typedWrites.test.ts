// Issue 22, types: MemcachedCache<V> checks every write against V, and error codes are literals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { typeProblems } from './typeProblems.js';

describe('typed writes and error codes for TypeScript users', () => {
  it('store, storeMany, getOrStore and retrieve of MemcachedCache<User> refuse non-Users; e.code is a MemcachedErrorCode', () => {
    assert.deepEqual(typeProblems('typedWrites.ts'), []);
  });
});
