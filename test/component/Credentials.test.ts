import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  ConfigError,
  ConfigParams,
  CredentialParams,
  CredentialResolver,
  Descriptor,
  MemoryCredentialStore,
  References,
} from '../../src/index.js';

const storeLocator = new Descriptor('pip-services', 'credential-store', 'memory', 'default', '1.0');

describe('CredentialParams', () => {
  it('getters, aliases and ssl files', () => {
    const c = CredentialParams.fromTuples(
      'user',
      'app',
      'pass',
      'pw',
      'ssl_ca_file',
      '/ca.pem',
      'ssl_crt_file',
      '/crt.pem',
      'ssl_key_file',
      '/key.pem',
    );
    assert.equal(c.getUsername(), 'app');
    assert.equal(c.getPassword(), 'pw');
    assert.equal(c.getSslCaFile(), '/ca.pem');
    assert.equal(c.getSslCrtFile(), '/crt.pem');
    assert.equal(c.getSslKeyFile(), '/key.pem');
    c.setUsername('u2');
    c.setPassword('p2');
    assert.equal(c.getUsername(), 'u2');
    assert.equal(c.getPassword(), 'p2');
    assert.equal(c.useCredentialStore(), false);
    c.setStoreKey('k');
    assert.equal(c.useCredentialStore(), true);
    assert.equal(c.getStoreKey(), 'k');
  });

  it('toString and inspect hide the password', () => {
    const c = CredentialParams.fromTuples('username', 'app', 'password', 'hunter2');
    assert.equal(c.toString(), 'username=app;password=***');
    assert.doesNotMatch(inspect(c), /hunter2/);
  });

  it('manyFromConfig: credentials.N wins over credential', () => {
    const single = CredentialParams.manyFromConfig(ConfigParams.fromTuples('credential.username', 'u'));
    assert.deepEqual(
      single.map((c) => [c.getUsername(), c.configPath]),
      [['u', 'credential']],
    );
    const many = CredentialParams.manyFromConfig(
      ConfigParams.fromTuples(
        'credential.username',
        'x',
        'credentials.0.username',
        'a',
        'credentials.1.username',
        'b',
      ),
    );
    assert.deepEqual(
      many.map((c) => c.getUsername()),
      ['a', 'b'],
    );
    assert.equal(CredentialParams.fromConfig(new ConfigParams()), null);
  });
});

describe('MemoryCredentialStore', () => {
  it('reads one credential per section; store and delete', async () => {
    const s = new MemoryCredentialStore(ConfigParams.fromTuples('k1.username', 'u', 'k1.password', 'p'));
    assert.equal((await s.lookup(null, 'k1'))?.getPassword(), 'p');
    assert.equal(await s.lookup(null, 'nope'), null);
    await s.store(null, 'k2', CredentialParams.fromTuples('username', 'v'));
    assert.equal((await s.lookup('1', 'k2'))?.getUsername(), 'v');
    await s.store(null, 'k2', null);
    assert.equal(await s.lookup(null, 'k2'), null);
  });
});

describe('CredentialResolver', () => {
  it('returns a configured credential directly', async () => {
    const r = new CredentialResolver(
      ConfigParams.fromTuples('credential.username', 'u', 'credential.password', 'p'),
    );
    assert.equal((await r.lookup('1'))?.getUsername(), 'u');
    assert.equal(r.getAll().length, 1);
    assert.equal(await new CredentialResolver().lookup(null), null);
  });

  it('resolves store_key through credential-store references, keeping configured ssl files', async () => {
    const store = new MemoryCredentialStore(
      ConfigParams.fromTuples('mc.username', 'app', 'mc.password', 'secret'),
    );
    const r = new CredentialResolver(
      ConfigParams.fromTuples('credential.store_key', 'mc', 'credential.ssl_ca_file', '/ca.pem'),
      References.fromTuples(storeLocator, store),
    );
    const c = await r.lookup('1');
    assert.equal(c?.getUsername(), 'app');
    assert.equal(c?.getPassword(), 'secret');
    assert.equal(c?.getSslCaFile(), '/ca.pem');
    const all = await r.lookupAll('1');
    assert.equal(all[0]!.getUsername(), 'app');
  });

  it('store_key without a credential store → ConfigError naming the key', async () => {
    const r = new CredentialResolver(ConfigParams.fromTuples('credential.store_key', 'mc'));
    await assert.rejects(
      r.lookup('t'),
      (err: unknown) =>
        err instanceof ConfigError &&
        /'credential\.store_key' is 'mc'/.test(err.message) &&
        err.traceId === 't',
    );
  });

  it('store_key no store knows → ConfigError', async () => {
    const r = new CredentialResolver(
      ConfigParams.fromTuples('credentials.0.store_key', 'missing'),
      References.fromTuples(storeLocator, new MemoryCredentialStore()),
    );
    await assert.rejects(
      r.lookup(null),
      /'credentials\.0\.store_key' is 'missing' but no credential store knows/,
    );
  });

  it('add appends a credential', async () => {
    const r = new CredentialResolver();
    r.add(CredentialParams.fromTuples('username', 'x'));
    assert.equal((await r.lookup(null))?.getUsername(), 'x');
  });
});
