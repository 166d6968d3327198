// The README's option table, generated from COMPONENT_OPTIONS (the one home of every option's
// default, range, unit and meaning). `npm run docs:options` rewrites the README between the
// markers; test/docs/readme.test.ts fails when the README and the table disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMPONENT_OPTIONS, type OptionSpec } from '../src/connector/ComponentOptions.js';

export const BEGIN = '<!-- options table: generated from COMPONENT_OPTIONS by `npm run docs:options` -->';
export const END = '<!-- end of options table -->';

function formatDefault(spec: OptionSpec): string {
  if (spec.type === 'string') return spec.default === '' ? "`''`" : `\`${spec.default}\``;
  if (spec.type === 'enum') return `\`${spec.default}\``;
  return String(spec.default);
}

function formatRange(spec: OptionSpec): string {
  if (spec.type === 'integer')
    return `${spec.min}–${spec.max}${spec.unit === 'count' ? '' : ` ${spec.unit}`}`;
  if (spec.type === 'enum') return spec.values.map((v) => `\`${v}\``).join(', ');
  return spec.type;
}

/** The markdown table, one row per option in table order. */
export function renderOptionsTable(): string {
  const rows = Object.entries(COMPONENT_OPTIONS).map(([name, spec]: [string, OptionSpec]) => {
    const client = spec.client === undefined ? '' : `\`${spec.client}\``;
    return `| \`${name}\` | ${formatDefault(spec)} | ${formatRange(spec)} | ${spec.users} | ${client} | ${spec.meaning} |`;
  });
  return [
    '| option | default | accepts | read by | `MemcachedClient` | meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The README with its option table replaced by the generated one. */
export function withGeneratedTable(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${renderOptionsTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = new URL('../README.md', import.meta.url);
  writeFileSync(path, withGeneratedTable(readFileSync(path, 'utf8')));
  console.log('README.md: option table regenerated from COMPONENT_OPTIONS');
}
