// TLS against a real memcached started with -Z: server verification against our own CA, a server
// certificate from another CA refused (unless tls_reject_unauthorized is false), and client
// certificates with ssl_verify_mode=2. Certificates are generated per run with the openssl CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ConfigParams, ConnectionError, MemcachedCache, MemcachedCacheError } from '../../src/index.js';
import {
  generatePki,
  HOST,
  memcachedFeatures,
  type Pki,
  removeDir,
  type SecureServer,
  startSecureMemcached,
} from './support.js';

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const features = memcachedFeatures();
const skip = !features.tls
  ? 'this memcached build has no TLS support (`memcached -h` lists no -Z / ssl_chain_cert)'
  : !opensslAvailable()
    ? 'the openssl CLI is not installed, so no test certificates can be generated'
    : false;

function tlsConfig(port: number, extra: unknown[] = []): ConfigParams {
  return ConfigParams.fromTuples(
    'connection.host',
    HOST,
    'connection.port',
    port,
    'connection.protocol',
    'memcacheds',
    'options.reconnect',
    2000,
    'options.request_timeout',
    2000,
    'options.retries',
    0,
    ...extra,
  );
}

async function roundTrip(cache: MemcachedCache, key: string): Promise<void> {
  await cache.open('tls');
  try {
    const value = { secret: 'over tls', n: 42, list: [1, 2, 3] };
    assert.deepEqual(await cache.store('tls', key, value, 10_000), value);
    assert.deepEqual(await cache.retrieve('tls', key), value);
    assert.deepEqual(await cache.remove('tls', key), value);
    assert.equal(await cache.retrieve('tls', key), null);
  } finally {
    await cache.close('tls');
  }
}

/** open() must reject with a ConnectionError whose message explains the certificate problem. */
async function assertCertificateRefused(
  t: TestContext,
  cache: MemcachedCache,
  pattern: RegExp,
): Promise<MemcachedCacheError> {
  let caught: unknown;
  try {
    await cache.open('tls-bad');
  } catch (error) {
    caught = error;
  } finally {
    await cache.close('tls-bad');
  }
  assert.ok(caught instanceof MemcachedCacheError, `expected a MemcachedCacheError, got ${String(caught)}`);
  assert.ok(
    caught instanceof ConnectionError,
    `expected a ConnectionError, got ${caught.name}: ${caught.message}`,
  );
  assert.equal(caught.code, 'CONNECTION');
  assert.match(caught.message, pattern);
  assert.equal(caught.traceId, 'tls-bad');
  assert.equal(cache.isOpen(), false);
  t.diagnostic(`refused: ${caught.message}`);
  return caught;
}

describe('TLS (memcached -Z)', { skip }, () => {
  let pki: Pki;
  let server: SecureServer; // our CA's certificate
  let otherServer: SecureServer; // a certificate from an unrelated CA
  let mtlsServer: SecureServer; // requires a client certificate (ssl_verify_mode=2)

  before(async () => {
    pki = generatePki();
    const ca = readFileSync(pki.caCrt);
    const otherCa = readFileSync(pki.otherCaCrt);
    const client = { cert: readFileSync(pki.clientCrt), key: readFileSync(pki.clientKey) };
    [server, otherServer, mtlsServer] = await Promise.all([
      startSecureMemcached(['-Z', '-o', `ssl_chain_cert=${pki.serverCrt},ssl_key=${pki.serverKey}`], {
        tls: { ca },
      }),
      startSecureMemcached(
        ['-Z', '-o', `ssl_chain_cert=${pki.otherServerCrt},ssl_key=${pki.otherServerKey}`],
        {
          tls: { ca: otherCa },
        },
      ),
      startSecureMemcached(
        [
          '-Z',
          '-o',
          `ssl_chain_cert=${pki.serverCrt},ssl_key=${pki.serverKey},ssl_ca_cert=${pki.caCrt},ssl_verify_mode=2`,
        ],
        { tls: { ca, ...client } },
      ),
    ]);
  });

  after(async () => {
    await Promise.all([server?.stop(), otherServer?.stop(), mtlsServer?.stop()]);
    if (pki) removeDir(pki.dir);
  });

  it('stores and retrieves with connection.protocol=memcacheds and credential.ssl_ca_file', async () => {
    const cache = new MemcachedCache();
    cache.configure(tlsConfig(server.port, ['credential.ssl_ca_file', pki.caCrt]));
    await roundTrip(cache, 'tls:protocol');
  });

  it('stores and retrieves with a memcacheds:// uri', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.uri',
        `memcacheds://${HOST}:${server.port}`,
        'credential.ssl_ca_file',
        pki.caCrt,
        'options.reconnect',
        2000,
      ),
    );
    await roundTrip(cache, 'tls:uri');
  });

  it('the value really travels encrypted: a plain-TCP client cannot talk to the TLS port', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        HOST,
        'connection.port',
        server.port,
        'options.reconnect',
        1000,
        'options.retries',
        0,
      ),
    );
    await assert.rejects(
      cache.open('plain'),
      (error: unknown) =>
        error instanceof MemcachedCacheError && ['CONNECTION', 'TIMEOUT', 'PROTOCOL'].includes(error.code),
    );
    assert.equal(cache.isOpen(), false);
  });

  it('refuses a server certificate signed by another CA, naming the certificate problem', async (t) => {
    const cache = new MemcachedCache();
    cache.configure(tlsConfig(otherServer.port, ['credential.ssl_ca_file', pki.caCrt]));
    const error = await assertCertificateRefused(t, cache, /certificate/i);
    assert.match(error.message, new RegExp(`${HOST}:${otherServer.port}`));
  });

  it('refuses our private CA when no ssl_ca_file is given (system roots only)', async (t) => {
    const cache = new MemcachedCache();
    cache.configure(tlsConfig(server.port));
    await assertCertificateRefused(t, cache, /certificate/i);
  });

  it('accepts the foreign certificate with options.tls_reject_unauthorized=false', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      tlsConfig(otherServer.port, [
        'credential.ssl_ca_file',
        pki.caCrt,
        'options.tls_reject_unauthorized',
        false,
      ]),
    );
    await roundTrip(cache, 'tls:insecure');
  });

  it('a missing ssl_ca_file is a ConfigError naming credential.ssl_ca_file', async () => {
    const cache = new MemcachedCache();
    cache.configure(tlsConfig(server.port, ['credential.ssl_ca_file', `${pki.dir}/does-not-exist.crt`]));
    await assert.rejects(cache.open('cfg'), (error: unknown) => {
      assert.ok(error instanceof MemcachedCacheError);
      assert.equal(error.code, 'CONFIG');
      assert.match(error.message, /credential\.ssl_ca_file/);
      return true;
    });
  });

  it('client certificates work with ssl_verify_mode=2', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      tlsConfig(mtlsServer.port, [
        'credential.ssl_ca_file',
        pki.caCrt,
        'credential.ssl_crt_file',
        pki.clientCrt,
        'credential.ssl_key_file',
        pki.clientKey,
      ]),
    );
    await roundTrip(cache, 'tls:mtls');
  });

  it('without a client certificate, ssl_verify_mode=2 refuses the connection at open()', async (t) => {
    const cache = new MemcachedCache();
    cache.configure(tlsConfig(mtlsServer.port, ['credential.ssl_ca_file', pki.caCrt]));
    let caught: unknown;
    try {
      await cache.open('no-client-cert');
    } catch (error) {
      caught = error;
    } finally {
      await cache.close('no-client-cert');
    }
    assert.ok(caught instanceof ConnectionError, `expected a ConnectionError, got ${String(caught)}`);
    assert.equal(caught.code, 'CONNECTION');
    // TLS 1.3 reports it as an alert ("certificate required"); older versions as a closed socket.
    assert.match(caught.message, /certificate|closed|handshake|reset/i);
    t.diagnostic(`refused: ${caught.message}`);
    assert.equal(cache.isOpen(), false);
  });
});
