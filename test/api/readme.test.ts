// The README is part of the API: its option table is generated from COMPONENT_OPTIONS and every
// name the package root exports is documented in its API section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderOptionsTable, withGeneratedTable } from '../../scripts/readmeOptions.js';
import {
  COMPONENT_OPTIONS,
  type ComponentOptionName,
  type OptionSpec,
  readOption,
} from '../../src/connector/ComponentOptions.js';
import type { ConnectorOptions, MemcachedConnector } from '../../src/connector/MemcachedConnector.js';
import * as root from '../../src/index.js';
import { ConfigParams, MemcachedCache, MemcachedLock } from '../../src/index.js';

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

/** The connector's field for each connection option that is not a client option. */
const CONNECTOR_FIELDS: Partial<Record<ComponentOptionName, keyof ConnectorOptions>> = {
  auto_discovery: 'autoDiscovery',
  key_prefix: 'keyPrefix',
  distribution: 'distribution',
  protocol: 'protocol',
  tls_reject_unauthorized: 'tlsRejectUnauthorized',
};

/** Where MemcachedCache keeps each of its own options (private fields). */
const CACHE_FIELDS: Partial<Record<ComponentOptionName, string[]>> = {
  max_size: ['near', 'maxSize'],
  near_cache_ttl: ['near', 'ttlMs'],
  max_expiration: ['times', 'maxExpirationMs'],
  timeout: ['times', 'defaultTtlMs'],
  lease_timeout: ['times', 'leaseTimeoutMs'],
  stale_ttl: ['times', 'staleTtlMs'],
  refresh_ahead: ['times', 'refreshAheadMs'],
  compression_threshold: ['codec', 'compressionThreshold'],
};

describe('README', () => {
  it('its option table is the one generated from COMPONENT_OPTIONS (run `npm run docs:options`)', () => {
    assert.equal(withGeneratedTable(README), README);
    assert.ok(README.includes(renderOptionsTable()));
  });

  it('every option default in the table is what the components read when the key is missing', async () => {
    const empty = new ConfigParams();
    for (const [name, spec] of Object.entries(COMPONENT_OPTIONS)) {
      assert.equal(readOption(empty, name as keyof typeof COMPONENT_OPTIONS), spec.default, name);
    }
    // What MemcachedCache and MemcachedLock actually hold after a configure() that sets no option
    // (only a server): their own settings, their connector's, and the options of the client it
    // builds. Private state is read on purpose: the table's promise is about what they use.
    const serverOnly = ConfigParams.fromTuples('connection.host', '127.0.0.1', 'connection.port', 1);
    const cache = new MemcachedCache();
    cache.configure(serverOnly);
    const lock = new MemcachedLock();
    lock.configure(serverOnly);
    const field = (target: object, ...path: string[]): unknown =>
      path.reduce<unknown>((at, name) => Reflect.get(at as object, name), target);
    const seen: Array<[ComponentOptionName, string, unknown]> = [];
    for (const [component, users] of [
      [cache, 'cache'],
      [lock, 'lock'],
    ] as const) {
      const connector = field(component, 'lifecycle', 'connector') as MemcachedConnector;
      const client = await connector.createClient(null);
      client.close();
      for (const [name, spec] of Object.entries(COMPONENT_OPTIONS) as Array<
        [ComponentOptionName, OptionSpec]
      >) {
        if (!spec.users.includes(users)) continue;
        const read = (): unknown => {
          if (spec.client !== undefined) return client.options[spec.client];
          const connectorField = CONNECTOR_FIELDS[name];
          if (connectorField !== undefined) return connector.options[connectorField];
          if (component instanceof MemcachedLock && name === 'retry_timeout')
            return component.getRetryTimeout();
          const path = CACHE_FIELDS[name];
          if (component instanceof MemcachedCache && path !== undefined) return field(component, ...path);
          return assert.fail(`${name}: no way to read what the ${users} component uses (add it here)`);
        };
        seen.push([name, users, read()]);
      }
    }
    const wrong = seen.filter(([name, , value]) => value !== COMPONENT_OPTIONS[name].default);
    assert.deepEqual(
      wrong.map(([name, users, value]) => `${users} ${name}: ${String(value)}`),
      [],
      'the table says one default, the component uses another',
    );
    assert.deepEqual(
      Object.keys(COMPONENT_OPTIONS).filter((name) => !seen.some(([n]) => n === name)),
      [],
      'options no component was checked for',
    );
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
