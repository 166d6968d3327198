// Issue 22, item 6: the CLI's exit code tells contention apart from a server failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overallHelp } from '../../src/cli/cli.js';
import { exitCodeFor } from '../../src/cli/common.js';
import { MemcachedCacheError } from '../../src/component/errors.js';

describe('CLI exit codes', () => {
  it('contention (CONTENTION, LOCK_TIMEOUT) exits 4, apart from server failures (3) and bad input (2), and help says so', () => {
    const code = (c: string) => exitCodeFor(new MemcachedCacheError(c as never, 'x'));
    assert.equal(code('CONTENTION'), 4);
    assert.equal(code('LOCK_TIMEOUT'), 4);
    for (const server of ['TIMEOUT', 'CONNECTION', 'SERVER_ERROR', 'PROTOCOL', 'OVERLOADED'])
      assert.equal(code(server), 3, server);
    for (const usage of ['INVALID_KEY', 'INVALID_VALUE', 'VALUE_TOO_LARGE', 'CONFIG'])
      assert.equal(code(usage), 2, usage);
    assert.match(overallHelp(), /^ {2}4 {2}contention: other clients kept winning a race/m);
  });
});
