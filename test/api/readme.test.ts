// The README is part of the API: its option table is generated from COMPONENT_OPTIONS and every
// name the package root exports is documented in its API section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderOptionsTable, withGeneratedTable } from '../../scripts/readmeOptions.js';
import { COMPONENT_OPTIONS, readOption } from '../../src/client/ComponentOptions.js';
import * as root from '../../src/index.js';
import { ConfigParams } from '../../src/index.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const INDEX = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
const INTERFACES = readFileSync(new URL('../../src/component/interfaces.ts', import.meta.url), 'utf8');

/** Every name src/index.ts exports, types included (`export { a, type B }`, `export type * from`). */
function exportedNames(): string[] {
  const names = new Set<string>();
  for (const match of INDEX.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part
        .trim()
        .replace(/^type /, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name !== '') names.add(name);
    }
  }
  if (/export type \* from '\.\/component\/interfaces\.js'/.test(INDEX)) {
    for (const match of INTERFACES.matchAll(/export interface (\w+)/g)) names.add(match[1]!);
  }
  return [...names].sort();
}

describe('README', () => {
  it('its option table is the one generated from COMPONENT_OPTIONS (run `npm run docs:options`)', () => {
    assert.equal(withGeneratedTable(README), README);
    assert.ok(README.includes(renderOptionsTable()));
  });

  it('every option default in the table is what the components read when the key is missing', () => {
    const empty = new ConfigParams();
    for (const [name, spec] of Object.entries(COMPONENT_OPTIONS)) {
      assert.equal(readOption(empty, name as keyof typeof COMPONENT_OPTIONS), spec.default, name);
    }
  });

  it('documents every name the package root exports, in its API section (errors: in Errors)', () => {
    const api =
      README.slice(README.indexOf('## API'), README.indexOf('## Command line')) +
      README.slice(README.indexOf('## Errors'), README.indexOf('## Benchmark'));
    const missing = exportedNames().filter(
      (name) => !api.includes(`\`${name}\``) && !api.includes(`\`${name}(`),
    );
    assert.deepEqual(missing, [], 'exported but not documented in the API section');
  });

  it('the root exports at run time exactly the value names src/index.ts lists', () => {
    const listed = new Set(exportedNames());
    const unlisted = Object.keys(root).filter((name) => !listed.has(name));
    assert.deepEqual(unlisted, []);
    assert.ok(Object.keys(root).length <= 70, `${Object.keys(root).length} runtime exports`);
  });
});
