// MemcachedClient's own options are validated like the component's: ConfigError naming the
// option; and the README's option table agrees with the one table they come from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_OPTIONS } from '../../src/client/ClientOptions.js';
import { MemcachedClient } from '../../src/client/MemcachedClient.js';
import { ConfigParams } from '../../src/component/ConfigParams.js';
import { ConfigError } from '../../src/component/errors.js';
import {
  COMPONENT_OPTIONS,
  type ComponentOptionName,
  type OptionSpec,
} from '../../src/connector/ComponentOptions.js';
import { MemcachedConnector, readConnectorOptions } from '../../src/connector/MemcachedConnector.js';

const servers = [{ id: '127.0.0.1:1', host: '127.0.0.1', port: 1 }];

describe('MemcachedClient options', () => {
  for (const [option, bad] of [
    ['requestTimeoutMs', 0],
    ['requestTimeoutMs', -5],
    ['requestTimeoutMs', Number.NaN],
    ['requestTimeoutMs', '1000'],
    ['requestTimeoutMs', 1.5],
    ['failures', 0],
    ['poolSize', 0],
    ['retries', -1],
    ['maxPending', 0],
    ['maxKeySize', 251],
    ['connectTimeoutMs', Number.POSITIVE_INFINITY],
  ] as const) {
    it(`${option}: ${String(bad)} is a ConfigError naming the option`, () => {
      assert.throws(
        () => new MemcachedClient({ servers, [option]: bad } as never),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `got ${String(error)}`);
          assert.equal(error.code, 'CONFIG');
          assert.match(
            error.message,
            new RegExp(`'${option}' \\(${CLIENT_OPTIONS[option].configKey.replace('.', '\\.')}\\)`),
          );
          assert.equal(error.details?.option, option);
          return true;
        },
      );
    });
  }

  it('the option tables cannot be changed by a caller (validation reads them live)', () => {
    for (const table of [CLIENT_OPTIONS, COMPONENT_OPTIONS] as Array<Record<string, object>>) {
      assert.ok(Object.isFrozen(table));
      for (const [name, row] of Object.entries(table)) assert.ok(Object.isFrozen(row), name);
    }
    assert.throws(() => {
      (CLIENT_OPTIONS.poolSize as { max: number }).max = 1;
    }, TypeError);
    assert.equal(CLIENT_OPTIONS.poolSize.max, 1000);
  });

  it('accepts every default and every bound', () => {
    for (const [name, spec] of Object.entries(CLIENT_OPTIONS)) {
      new MemcachedClient({ servers, [name]: spec.min }).close();
      new MemcachedClient({ servers, [name]: spec.max }).close();
    }
  });

  it('the component reads the same defaults and ranges', async () => {
    const defaults = readConnectorOptions(null);
    assert.equal(defaults.client.requestTimeoutMs, CLIENT_OPTIONS.requestTimeoutMs.default);
    assert.equal(defaults.client.maxPending, CLIENT_OPTIONS.maxPending.default);
    assert.equal(defaults.client.retryMs, CLIENT_OPTIONS.retryMs.default);

    // What the component hands the client, for every client option: built the way MemcachedCache
    // and MemcachedLock build theirs (MemcachedConnector), from a config with only a server.
    const server = ['connection.host', '127.0.0.1', 'connection.port', 1];
    const configured = (...tuples: unknown[]): MemcachedConnector => {
      const connector = new MemcachedConnector();
      connector.configure(ConfigParams.fromTuples(...server, ...tuples));
      return connector;
    };
    const clientFrom = async (...tuples: unknown[]): Promise<MemcachedClient['options']> => {
      const client = await configured(...tuples).createClient(null);
      client.close();
      return client.options;
    };
    const built = await clientFrom();
    for (const [name, spec] of Object.entries(CLIENT_OPTIONS) as Array<
      [keyof typeof CLIENT_OPTIONS, (typeof CLIENT_OPTIONS)[keyof typeof CLIENT_OPTIONS]]
    >) {
      assert.equal(built[name], spec.default, `${name}: the default the component gives the client`);
      // Both bounds are accepted and reach the client as configured; one past either is a
      // ConfigError naming the config key, as the client's own check would name the option.
      for (const bound of [spec.min, spec.max]) {
        assert.equal((await clientFrom(spec.configKey, bound))[name], bound, `${spec.configKey} = ${bound}`);
      }
      for (const outside of [spec.min - 1, spec.max + 1]) {
        assert.throws(
          () => configured(spec.configKey, outside),
          (error: unknown) =>
            error instanceof ConfigError && error.message.includes(spec.configKey)
              ? true
              : assert.fail(String(error)),
          `${spec.configKey} = ${outside} is accepted`,
        );
      }
    }
  });

  it('every client option is a row of COMPONENT_OPTIONS under its config key, naming it back', () => {
    for (const [name, spec] of Object.entries(CLIENT_OPTIONS)) {
      const row: OptionSpec =
        COMPONENT_OPTIONS[spec.configKey.replace('options.', '') as ComponentOptionName];
      assert.ok(row, `no COMPONENT_OPTIONS row for ${spec.configKey}`);
      assert.equal(row.client, name);
      assert.equal(row.default, spec.default);
    }
  });
});
