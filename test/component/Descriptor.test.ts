import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, Descriptor } from '../../src/index.js';

describe('Descriptor', () => {
  const full = new Descriptor('pip-services', 'cache', 'memcached', 'default', '1.0');

  it('stores * as null and prints null as *', () => {
    const d = new Descriptor('*', 'discovery', null, undefined, '1.0');
    assert.equal(d.getGroup(), null);
    assert.equal(d.getType(), 'discovery');
    assert.equal(d.getKind(), null);
    assert.equal(d.getName(), null);
    assert.equal(d.toString(), '*:discovery:*:*:1.0');
    assert.equal(full.toString(), 'pip-services:cache:memcached:default:1.0');
  });

  it('match treats wildcards on either side as any', () => {
    assert.equal(full.match(new Descriptor('*', 'cache', '*', '*', '1.0')), true);
    assert.equal(new Descriptor('*', 'cache', '*', '*', '1.0').match(full), true);
    assert.equal(full.match(new Descriptor('*', 'cache', '*', '*', '2.0')), false);
    assert.equal(full.match(new Descriptor('*', 'lock', '*', '*', '*')), false);
    assert.equal(full.match(new Descriptor('*', '*', '*', '*', '*')), true);
  });

  it('exactMatch requires every field to be equal, wildcards included', () => {
    assert.equal(
      full.exactMatch(new Descriptor('pip-services', 'cache', 'memcached', 'default', '1.0')),
      true,
    );
    assert.equal(full.exactMatch(new Descriptor('*', 'cache', 'memcached', 'default', '1.0')), false);
    const wild = new Descriptor('*', 'cache', '*', '*', '1.0');
    assert.equal(wild.exactMatch(Descriptor.fromString('*:cache:*:*:1.0')), true);
  });

  it('isComplete is false when any field is a wildcard', () => {
    assert.equal(full.isComplete(), true);
    assert.equal(new Descriptor('g', 't', 'k', 'n', '*').isComplete(), false);
  });

  it('equals matches Descriptors and rejects other values', () => {
    assert.equal(full.equals(new Descriptor('*', 'cache', '*', '*', '*')), true);
    assert.equal(full.equals(new Descriptor('*', 'lock', '*', '*', '*')), false);
    assert.equal(full.equals(full.toString()), false);
    assert.equal(full.equals(null), false);
  });

  it('fromString parses five trimmed parts', () => {
    const d = Descriptor.fromString(' g : t :*:n: 1.0 ');
    assert.equal(d.getGroup(), 'g');
    assert.equal(d.getType(), 't');
    assert.equal(d.getKind(), null);
    assert.equal(d.getVersion(), '1.0');
  });

  it('fromString throws ConfigError on a wrong part count', () => {
    for (const bad of ['a:b:c:d', 'a:b:c:d:e:f', '']) {
      assert.throws(
        () => Descriptor.fromString(bad),
        (err: unknown) => err instanceof ConfigError && /wrong format/.test(err.message),
        bad,
      );
    }
  });
});
