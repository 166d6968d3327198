// Issue 22, types: the README's errors table lists every error code, each once, with its class.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, MemcachedCacheError } from '../../src/component/errors.js';
import * as root from '../../src/index.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** `| \`Class\` (…) | \`CODE\` | when |` rows of the "## Errors" section. */
function tableRows(): Array<{ className: string; code: string; when: string }> {
  const section = README.slice(README.indexOf('## Errors'), README.indexOf('## Benchmark'));
  return [...section.matchAll(/^\| `(\w+)`[^|]*\| `(\w+)` \| (.+) \|$/gm)].map((m) => ({
    className: m[1]!,
    code: m[2]!,
    when: m[3]!,
  }));
}

describe('README errors table', () => {
  it('has one row for every MemcachedErrorCode, naming the exported class that carries it', () => {
    const rows = tableRows();
    assert.deepEqual(rows.map((r) => r.code).sort(), [...ERROR_CODES].sort());
    for (const row of rows) {
      const Class = (root as Record<string, unknown>)[row.className] as
        | (new (
            message: string,
          ) => MemcachedCacheError)
        | undefined;
      assert.equal(typeof Class, 'function', `${row.className} is exported`);
      const error = new Class!('x');
      assert.ok(error instanceof MemcachedCacheError);
      assert.equal(error.code, row.code, row.className);
      assert.ok(row.when.length > 20, `${row.code}: says when it happens`);
    }
  });
});
