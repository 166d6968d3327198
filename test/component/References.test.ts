import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Descriptor, ReferenceException, References } from '../../src/index.js';

describe('References', () => {
  const logger1 = { name: 'logger1' };
  const logger2 = { name: 'logger2' };
  const discovery = { name: 'discovery' };
  const make = () =>
    References.fromTuples(
      new Descriptor('pip-services', 'logger', 'console', 'default', '1.0'),
      logger1,
      new Descriptor('pip-services', 'logger', 'null', 'default', '1.0'),
      logger2,
      new Descriptor('pip-services', 'discovery', 'memory', 'default', '1.0'),
      discovery,
      'plain-key',
      'plain-component',
    );

  it('getOptional finds every Descriptor match, newest first', () => {
    const refs = make();
    assert.deepEqual(refs.getOptional(new Descriptor('*', 'logger', '*', '*', '1.0')), [logger2, logger1]);
    assert.deepEqual(refs.getOptional(new Descriptor('*', 'counters', '*', '*', '1.0')), []);
    assert.deepEqual(refs.getOptional(new Descriptor('*', 'logger', '*', '*', '2.0')), []);
  });

  it('non-Descriptor locators match by equality', () => {
    const refs = make();
    assert.equal(refs.getOneOptional('plain-key'), 'plain-component');
    assert.equal(refs.getOneOptional('other'), null);
  });

  it('a component is found by itself as locator (pip semantics)', () => {
    assert.deepEqual(make().getOptional(discovery), [discovery]);
  });

  it('getOneRequired / getOneOptional', () => {
    const refs = make();
    assert.equal(refs.getOneRequired(new Descriptor('*', 'discovery', '*', '*', '1.0')), discovery);
    assert.equal(refs.getOneOptional(new Descriptor('*', 'logger', 'console', '*', '*')), logger1);
    assert.equal(refs.getOneOptional(new Descriptor('*', 'nothing', '*', '*', '*')), null);
  });

  it('getRequired throws ReferenceException naming the locator when nothing matches', () => {
    const refs = make();
    assert.throws(
      () => refs.getRequired(new Descriptor('*', 'credential-store', '*', '*', '1.0')),
      (err: unknown) =>
        err instanceof ReferenceException &&
        err.code === 'REF_NOT_FOUND' &&
        err.message.includes('*:credential-store:*:*:1.0'),
    );
    assert.throws(() => refs.getOneRequired('missing-key'), /missing-key/);
    assert.deepEqual(refs.getRequired(new Descriptor('*', 'logger', '*', '*', '*')).length, 2);
  });

  it('find with required=false returns empty; null locator is a programming error', () => {
    assert.deepEqual(make().find('nope', false), []);
    assert.throws(() => make().find(null, false), TypeError);
  });

  it('put, remove (newest match), removeAll, getAll, getAllLocators', () => {
    const refs = new References();
    assert.deepEqual(refs.getAll(), []);
    refs.put('a', 1);
    refs.put('a', 2);
    refs.put('b', 3);
    assert.deepEqual(refs.getAll(), [1, 2, 3]);
    assert.deepEqual(refs.getAllLocators(), ['a', 'a', 'b']);
    assert.equal(refs.remove('a'), 2);
    assert.deepEqual(refs.getAll(), [1, 3]);
    assert.equal(refs.remove('zzz'), null);
    refs.put('b', 4);
    assert.deepEqual(refs.removeAll('b'), [4, 3]);
    assert.deepEqual(refs.getAll(), [1]);
    assert.throws(() => refs.put('x', null), TypeError);
  });
});
