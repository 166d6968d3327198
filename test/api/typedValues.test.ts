// Issue 11, item 7: `retrieve<T>()` and friends compile (0.1: TS2558, retrieve is not generic).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

describe('typed values for TypeScript users', () => {
  it('retrieve<T>, store<T>, remove, retrieveMany and storeMany of MemcachedCache<V> type-check', () => {
    const file = fileURLToPath(new URL('./fixtures/typedValues.ts', import.meta.url));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      skipLibCheck: true,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(problems, []);
  });
});
