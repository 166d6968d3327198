import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, ConfigParams } from '../../src/index.js';

describe('ConfigParams', () => {
  it('fromTuples stores values as strings', () => {
    const c = ConfigParams.fromTuples('connection.host', 'localhost', 'connection.port', 11211, 'flag', true);
    assert.equal(c.get('connection.host'), 'localhost');
    assert.equal(c.get('connection.port'), '11211');
    assert.equal(c.get('flag'), 'true');
    assert.equal(c.length(), 3);
    assert.deepEqual(c.getKeys(), ['connection.host', 'connection.port', 'flag']);
  });

  it('fromTuples ignores a trailing key without value', () => {
    assert.deepEqual(ConfigParams.fromTuples('a', 1, 'b').getKeys(), ['a']);
  });

  it('put/get/remove/containsKey', () => {
    const c = new ConfigParams();
    c.put('a', 1);
    c.put('n', null);
    assert.equal(c.get('a'), '1');
    assert.equal(c.containsKey('n'), true);
    assert.equal(c.get('n'), null);
    assert.equal(c.get('missing'), null);
    c.remove('a');
    assert.equal(c.containsKey('a'), false);
    assert.equal(c.length(), 1);
  });

  it('fromValue flattens nested objects and arrays into dotted keys', () => {
    const c = ConfigParams.fromValue({
      connection: { host: 'h', port: 11211 },
      connections: [{ host: 'a' }, { host: 'b', port: 2 }],
      options: { timeout: 5, nested: { deep: true } },
      skipped: undefined,
      nothing: null,
    });
    assert.deepEqual(c.toJSON(), {
      'connection.host': 'h',
      'connection.port': '11211',
      'connections.0.host': 'a',
      'connections.1.host': 'b',
      'connections.1.port': '2',
      'options.timeout': '5',
      'options.nested.deep': 'true',
      nothing: null,
    });
  });

  it('fromValue rejects cycles with ConfigError', () => {
    const v: Record<string, unknown> = { a: 1 };
    v.self = v;
    assert.throws(() => ConfigParams.fromValue(v), ConfigError);
  });

  it('fromValue accepts the same object twice when it is not a cycle', () => {
    const shared = { host: 'x' };
    const c = ConfigParams.fromValue({ a: shared, b: shared });
    assert.equal(c.get('a.host'), 'x');
    assert.equal(c.get('b.host'), 'x');
  });

  it('fromString parses key=value pairs, trims, key alone is null', () => {
    const c = ConfigParams.fromString('a.b=1; c = two ;;flag;url=x=y');
    assert.equal(c.get('a.b'), '1');
    assert.equal(c.get('c'), 'two');
    assert.equal(c.containsKey('flag'), true);
    assert.equal(c.get('flag'), null);
    assert.equal(c.get('url'), 'x=y');
    assert.equal(c.length(), 4);
    assert.equal(ConfigParams.fromString('').length(), 0);
  });

  it('toString round-trips through fromString', () => {
    const c = ConfigParams.fromTuples('a', 1, 'b.c', 'x');
    assert.equal(c.toString(), 'a=1;b.c=x');
    assert.deepEqual(ConfigParams.fromString(c.toString()).toJSON(), c.toJSON());
  });

  it('getSection strips the prefix and only takes keys under name.', () => {
    const c = ConfigParams.fromTuples(
      'connection.host',
      'h',
      'connection.port',
      '1',
      'connections.0.host',
      'x',
      'connection',
      'bare',
    );
    const s = c.getSection('connection');
    assert.deepEqual(s.toJSON(), { host: 'h', port: '1' });
    assert.equal(c.getSection('nothing').length(), 0);
  });

  it('getSectionNames lists first-level names once, in order', () => {
    const c = ConfigParams.fromTuples('b.x', 1, 'a', 2, 'b.y', 3, 'c.d.e', 4);
    assert.deepEqual(c.getSectionNames(), ['b', 'a', 'c']);
  });

  it('addSection prefixes keys', () => {
    const c = new ConfigParams();
    c.addSection('options', ConfigParams.fromTuples('timeout', 5, '', 'self'));
    assert.deepEqual(c.toJSON(), { 'options.timeout': '5', options: 'self' });
  });

  it('setDefaults keeps own values over defaults and returns a new object', () => {
    const own = ConfigParams.fromTuples('a', 1);
    const merged = own.setDefaults(ConfigParams.fromTuples('a', 9, 'b', 2));
    assert.deepEqual(merged.toJSON(), { a: '1', b: '2' });
    assert.notEqual(merged, own);
    assert.equal(own.containsKey('b'), false);
  });

  it('override puts new values over own values', () => {
    const merged = ConfigParams.fromTuples('a', 1, 'b', 2).override(ConfigParams.fromTuples('a', 9));
    assert.deepEqual(merged.toJSON(), { a: '9', b: '2' });
  });

  it('mergeConfigs: later wins, nulls skipped', () => {
    const m = ConfigParams.mergeConfigs(
      ConfigParams.fromTuples('a', 1),
      null,
      ConfigParams.fromTuples('a', 2, 'b', 3),
    );
    assert.deepEqual(m.toJSON(), { a: '2', b: '3' });
  });

  it('getAsString family', () => {
    const c = ConfigParams.fromTuples('s', 'x');
    assert.equal(c.getAsString('s'), 'x');
    assert.equal(c.getAsString('missing'), '');
    assert.equal(c.getAsNullableString('missing'), null);
    assert.equal(c.getAsStringWithDefault('missing', 'd'), 'd');
    assert.equal(c.getAsStringWithDefault('s', 'd'), 'x');
  });

  it('getAsInteger family: non-numbers give the default (pip semantics)', () => {
    const c = ConfigParams.fromTuples(
      'i',
      '42',
      'f',
      '3.9',
      'neg',
      '-2',
      'bad',
      'abc',
      'partial',
      '12abc',
      'e',
      '',
    );
    assert.equal(c.getAsInteger('i'), 42);
    assert.equal(c.getAsInteger('f'), 3);
    assert.equal(c.getAsInteger('neg'), -2);
    assert.equal(c.getAsInteger('bad'), 0);
    assert.equal(c.getAsInteger('partial'), 0);
    assert.equal(c.getAsNullableInteger('bad'), null);
    assert.equal(c.getAsNullableInteger('e'), null);
    assert.equal(c.getAsIntegerWithDefault('bad', 7), 7);
    assert.equal(c.getAsIntegerWithDefault('i', 7), 42);
    assert.equal(c.getAsLong('i'), 42);
    assert.equal(c.getAsNullableLong('bad'), null);
    assert.equal(c.getAsLongWithDefault('missing', 5), 5);
  });

  it('getAsFloat family', () => {
    const c = ConfigParams.fromTuples('f', '3.5', 'bad', 'x');
    assert.equal(c.getAsFloat('f'), 3.5);
    assert.equal(c.getAsFloat('bad'), 0);
    assert.equal(c.getAsNullableFloat('bad'), null);
    assert.equal(c.getAsFloatWithDefault('missing', 1.5), 1.5);
    assert.equal(c.getAsDouble('f'), 3.5);
  });

  it('getAsBoolean family accepts true/1/yes/on and false/0/no/off', () => {
    for (const word of ['true', 'TRUE', '1', 'yes', 'on', 'y', 't']) {
      assert.equal(ConfigParams.fromTuples('b', word).getAsNullableBoolean('b'), true, word);
    }
    for (const word of ['false', '0', 'no', 'off', 'N', 'f']) {
      assert.equal(ConfigParams.fromTuples('b', word).getAsNullableBoolean('b'), false, word);
    }
    const c = ConfigParams.fromTuples('bad', 'maybe');
    assert.equal(c.getAsNullableBoolean('bad'), null);
    assert.equal(c.getAsBoolean('bad'), false);
    assert.equal(c.getAsBooleanWithDefault('bad', true), true);
  });

  it('getAsObject returns a value or the whole map', () => {
    const c = ConfigParams.fromTuples('a', 1);
    assert.equal(c.getAsObject('a'), '1');
    assert.deepEqual(c.getAsObject(), { a: '1' });
  });

  it('constructor copies a record, a Map or another ConfigParams', () => {
    assert.equal(new ConfigParams({ a: 1 }).get('a'), '1');
    assert.equal(new ConfigParams(new Map([['a', 2]])).get('a'), '2');
    const original = ConfigParams.fromTuples('a', 3);
    const copy = new ConfigParams(original);
    copy.put('a', 4);
    assert.equal(original.get('a'), '3');
  });

  it('does not show its values in util.inspect (no accidental secret logging)', () => {
    const c = ConfigParams.fromTuples('credential.password', 'hunter2');
    assert.doesNotMatch(inspect(c), /hunter2/);
  });
});
