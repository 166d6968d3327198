import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Descriptor } from '../../src/component/Descriptor.js';
import {
  CreateError,
  DefaultMemcachedFactory,
  Factory,
  MemcachedCache,
  MemcachedLock,
  MemoryCache,
  MemoryLock,
  NullCache,
  NullLock,
} from '../../src/index.js';

const registered: [string, new () => unknown][] = [
  ['pip-services:cache:memcached:*:1.0', MemcachedCache],
  ['pip-services:lock:memcached:*:1.0', MemcachedLock],
  ['pip-services:cache:memory:*:1.0', MemoryCache],
  ['pip-services:cache:null:*:1.0', NullCache],
  ['pip-services:lock:memory:*:1.0', MemoryLock],
  ['pip-services:lock:null:*:1.0', NullLock],
];

describe('DefaultMemcachedFactory', () => {
  const factory = new DefaultMemcachedFactory();

  for (const [locator, type] of registered) {
    it(`canCreate and create ${locator} → ${type.name}`, () => {
      const wanted = Descriptor.fromString(locator.replace(':*:', ':default:'));
      const found = factory.canCreate(wanted);
      assert.ok(found instanceof Descriptor);
      assert.equal(found.toString(), locator);
      const component = factory.create(wanted, '123');
      assert.ok(component instanceof type);
      assert.notEqual(factory.create(wanted), component, 'a new instance each time');
    });
  }

  it('exposes the descriptors as statics', () => {
    assert.equal(
      DefaultMemcachedFactory.MemcachedCacheDescriptor.toString(),
      'pip-services:cache:memcached:*:1.0',
    );
    assert.equal(
      DefaultMemcachedFactory.MemcachedLockDescriptor.toString(),
      'pip-services:lock:memcached:*:1.0',
    );
  });

  it('cannot create unregistered components: canCreate → null, create → CreateError', () => {
    for (const locator of [
      'pip-services:cache:redis:default:1.0',
      'pip-services:cache:memcached:default:2.0',
      'other:lock:memory:default:1.0',
    ]) {
      const d = Descriptor.fromString(locator);
      assert.equal(factory.canCreate(d), null);
      assert.throws(
        () => factory.create(d, 'trace-9'),
        (err: any) => {
          assert.ok(err instanceof CreateError);
          assert.equal(err.code, 'CANNOT_CREATE');
          assert.equal(err.traceId, 'trace-9');
          assert.ok(err.message.includes(locator));
          return true;
        },
      );
    }
  });
});

describe('Factory', () => {
  it('register / registerAsType match by equals (descriptor wildcards) or identity', () => {
    const factory = new Factory();
    class A {}
    factory.registerAsType(new Descriptor('g', 't', 'a', '*', '1.0'), A);
    factory.register('plain-locator', (locator) => ({ made: locator }));
    assert.ok(factory.create(new Descriptor('g', 't', 'a', 'x', '1.0')) instanceof A);
    assert.ok(factory.canCreate(new Descriptor('*', '*', 'a', '*', '*')) instanceof Descriptor);
    assert.equal(factory.canCreate('plain-locator'), 'plain-locator');
    assert.deepEqual(factory.create('plain-locator'), { made: 'plain-locator' });
    assert.equal(factory.canCreate('other'), null);
  });

  it('wraps a failing factory function in CreateError with the cause', () => {
    const factory = new Factory();
    const boom = new Error('boom');
    factory.register('x', () => {
      throw boom;
    });
    assert.throws(
      () => factory.create('x'),
      (err: any) => err instanceof CreateError && err.cause === boom,
    );
  });

  it('rejects null locators and non-function factories', () => {
    const factory = new Factory();
    assert.throws(() => factory.register(null, () => 1), TypeError);
    assert.throws(() => factory.register('x', null as any), TypeError);
    assert.throws(() => factory.registerAsType(undefined, class {}), TypeError);
  });
});
