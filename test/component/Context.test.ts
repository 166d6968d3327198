import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Context, ContextResolver } from '../../src/index.js';

describe('Context', () => {
  it('fromTraceId / fromValue / fromTuples', () => {
    assert.equal(Context.fromTraceId('abc').get('trace_id'), 'abc');
    assert.equal(Context.fromTraceId('abc').getTraceId(), 'abc');
    const v = Context.fromValue({ trace_id: 't', client: 'c', user: { id: 1 } });
    assert.equal(v.getClient(), 'c');
    assert.deepEqual(v.getUser(), { id: 1 });
    assert.equal(Context.fromTuples('trace_id', 't2', 'x', 5).get('x'), 5);
    assert.equal(new Context().get('missing'), null);
  });
});

describe('ContextResolver.getTraceId', () => {
  it('accepts a plain string (the seed passes "123")', () => {
    assert.equal(ContextResolver.getTraceId('123'), '123');
  });

  it('reads trace_id or traceId from an IContext', () => {
    assert.equal(ContextResolver.getTraceId(Context.fromTraceId('t1')), 't1');
    assert.equal(ContextResolver.getTraceId(Context.fromTuples('traceId', 42)), '42');
    assert.equal(
      ContextResolver.getTraceId({ get: (k: string) => (k === 'trace_id' ? 'custom' : null) }),
      'custom',
    );
  });

  it('returns null for null, undefined, empty string or a context without trace id', () => {
    assert.equal(ContextResolver.getTraceId(null), null);
    assert.equal(ContextResolver.getTraceId(undefined), null);
    assert.equal(ContextResolver.getTraceId(''), null);
    assert.equal(ContextResolver.getTraceId(new Context()), null);
  });

  it('getClient / getUser are null for strings', () => {
    assert.equal(ContextResolver.getClient('123'), null);
    assert.equal(ContextResolver.getClient(Context.fromTuples('client', 'app')), 'app');
    assert.equal(ContextResolver.getUser(undefined), null);
  });
});
