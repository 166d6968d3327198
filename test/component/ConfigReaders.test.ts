import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isSensitiveKey,
  readBoolean,
  readEnum,
  readInteger,
  readNumber,
  readString,
} from '../../src/component/ConfigReaders.js';
import { ConfigError, ConfigParams } from '../../src/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG');
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('readInteger', () => {
  const c = ConfigParams.fromTuples(
    'options.pool_size',
    '5',
    'options.bad',
    'abc',
    'options.frac',
    '1.5',
    'options.big',
    '70000',
    'options.blank',
    '  ',
    'options.neg',
    '-3',
  );

  it('reads integers and returns the default when missing or blank', () => {
    assert.equal(readInteger(c, 'options.pool_size', 1), 5);
    assert.equal(readInteger(c, 'options.missing', 7), 7);
    assert.equal(readInteger(c, 'options.blank', 7), 7);
    assert.equal(readInteger(null, 'x', 9), 9);
    assert.equal(readInteger(c, 'options.neg', 0), -3);
  });

  it('throws ConfigError naming the key and the text when not an integer', () => {
    const err = configError(() => readInteger(c, 'options.bad', 1));
    assert.match(err.message, /options\.bad/);
    assert.match(err.message, /'abc'/);
    assert.deepEqual(err.details, { configKey: 'options.bad' });
    configError(() => readInteger(c, 'options.frac', 1));
    configError(() => readInteger(ConfigParams.fromTuples('k', '12abc'), 'k', 1));
  });

  it('enforces min and max', () => {
    const err = configError(() => readInteger(c, 'options.big', 1, { min: 1, max: 65535 }));
    assert.match(err.message, /options\.big.*between 1 and 65535.*'70000'/);
    assert.equal(readInteger(c, 'options.pool_size', 1, { min: 5, max: 5 }), 5);
    assert.match(configError(() => readInteger(c, 'options.neg', 0, { min: 0 })).message, />= 0/);
    assert.match(configError(() => readInteger(c, 'options.pool_size', 0, { max: 4 })).message, /<= 4/);
  });

  it('never prints the value of a sensitive key', () => {
    const s = ConfigParams.fromTuples('credential.password', 'hunter2', 'options.secret', 's3cr3t');
    const e1 = configError(() => readInteger(s, 'credential.password', 0));
    assert.match(e1.message, /credential\.password/);
    assert.doesNotMatch(e1.message, /hunter2/);
    const e2 = configError(() => readBoolean(s, 'options.secret', false));
    assert.doesNotMatch(e2.message, /s3cr3t/);
  });
});

describe('isSensitiveKey', () => {
  it('flags secrets but not ordinary keys that contain "key"', () => {
    for (const k of [
      'credential.password',
      'pass',
      'options.secret',
      'credential.ssl_key',
      'api_key',
      'token',
    ]) {
      assert.equal(isSensitiveKey(k), true, k);
    }
    for (const k of [
      'options.max_key_size',
      'options.key_prefix',
      'credential.ssl_key_file',
      'connection.host',
    ]) {
      assert.equal(isSensitiveKey(k), false, k);
    }
  });
});

describe('readNumber', () => {
  it('reads decimals and validates range', () => {
    const c = ConfigParams.fromTuples('r', '0.5', 'bad', 'x');
    assert.equal(readNumber(c, 'r', 0, { min: 0, max: 1 }), 0.5);
    assert.equal(readNumber(c, 'missing', 2), 2);
    assert.match(configError(() => readNumber(c, 'bad', 0)).message, /'bad'.*'x'/);
    configError(() => readNumber(c, 'r', 0, { min: 1 }));
  });
});

describe('readBoolean', () => {
  it('accepts the boolean words and rejects others', () => {
    const c = ConfigParams.fromTuples('a', 'on', 'b', 'OFF', 'c', 'yes', 'd', '0', 'bad', 'maybe');
    assert.equal(readBoolean(c, 'a', false), true);
    assert.equal(readBoolean(c, 'b', true), false);
    assert.equal(readBoolean(c, 'c', false), true);
    assert.equal(readBoolean(c, 'd', true), false);
    assert.equal(readBoolean(c, 'missing', true), true);
    const err = configError(() => readBoolean(c, 'bad', false));
    assert.match(err.message, /'bad'.*'maybe'/);
  });
});

describe('readString', () => {
  it('returns the text, the default, or throws when required', () => {
    const c = ConfigParams.fromTuples('a', ' x ', 'empty', '');
    assert.equal(readString(c, 'a', 'd'), ' x ');
    assert.equal(readString(c, 'empty', 'd'), 'd');
    assert.equal(readString(c, 'missing', 'd'), 'd');
    const err = configError(() => readString(c, 'missing', '', { required: true }));
    assert.match(err.message, /'missing' is required/);
  });
});

describe('readEnum', () => {
  const codecs = ['json', 'raw', 'msgpack'] as const;
  it('matches case-insensitively and returns the canonical spelling', () => {
    const c = ConfigParams.fromTuples('codec', 'JSON', 'bad', 'xml');
    assert.equal(readEnum(c, 'codec', codecs, 'raw'), 'json');
    assert.equal(readEnum(c, 'missing', codecs, 'raw'), 'raw');
    const err = configError(() => readEnum(c, 'bad', codecs, 'raw'));
    assert.match(err.message, /'bad' must be one of json, raw, msgpack, got 'xml'/);
  });
});
