// memcached ASCII authentication (-Y auth file) through MemcachedCache: credential.* config, user
// info in the uri, a credential-store reference; a wrong password fails open() with an
// AuthenticationError (never a silently empty cache), and the password never leaks into errors
// or into what util.inspect shows of the cache and its configuration.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  AuthenticationError,
  ConfigParams,
  Descriptor,
  endpointsFromServerList,
  MemcachedCache,
  MemcachedCacheError,
  MemcachedClient,
  MemoryCredentialStore,
  References,
} from '../../src/index.js';
import { rawCommand } from '../support/index.js';
import {
  HOST,
  memcachedFeatures,
  removeDir,
  type SecureServer,
  startSecureMemcached,
  tempDir,
} from './support.js';

const USER = 'cacheapp';
// Distinctive, so a leak anywhere is found by a plain substring search; '@' and '#' exercise
// percent-decoding of the uri's user info.
const PASSWORD = 'Pw9-zq@Lk#73xVb';
const WRONG_PASSWORD = 'Wrong7-hunter2-Zx';
const OTHER_USER = 'reader';
const OTHER_PASSWORD = 'Rd8-pass-Qy31';
// Non-ASCII: the auth command must carry the password's UTF-8 bytes unchanged.
const UNICODE_USER = 'ünicode';
const UNICODE_PASSWORD = 'пароль-Ωmega-7';

const skip = memcachedFeatures().auth
  ? false
  : 'this memcached build has no ASCII auth (`memcached -h` lists no -Y/--auth-file)';

function baseOptions(): unknown[] {
  return ['options.reconnect', 2000, 'options.request_timeout', 2000, 'options.retries', 0];
}

async function roundTrip(cache: MemcachedCache, key: string): Promise<void> {
  await cache.open('auth');
  try {
    assert.equal(await cache.store('auth', key, `value of ${key}`, 10_000), `value of ${key}`);
    assert.equal(await cache.retrieve('auth', key), `value of ${key}`);
  } finally {
    await cache.close('auth');
  }
}

/** Every way an error (or object) can end up in a log, checked for each secret. */
function assertNoSecret(what: string, texts: string[], secrets: string[]): void {
  for (const text of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${what} leaks a password: ${text.slice(0, 400)}`);
      assert.ok(!text.includes(encodeURIComponent(secret)), `${what} leaks a percent-encoded password`);
    }
  }
}

function errorTexts(error: unknown): string[] {
  const e = error as Error;
  return [
    e.message,
    String(e.stack),
    String(e),
    inspect(e, { depth: 5 }),
    inspect(e, { depth: 5, showHidden: true }),
    JSON.stringify(e),
    String((e as { cause?: unknown }).cause),
  ];
}

describe('ASCII auth (memcached -Y)', { skip }, () => {
  let dir: string;
  let server: SecureServer;

  before(async () => {
    dir = tempDir('memcached-auth-');
    const authFile = join(dir, 'auth');
    writeFileSync(
      authFile,
      `${USER}:${PASSWORD}\n${OTHER_USER}:${OTHER_PASSWORD}\n${UNICODE_USER}:${UNICODE_PASSWORD}\n`,
      { mode: 0o600 },
    );
    server = await startSecureMemcached(['-Y', authFile], { auth: { username: USER, password: PASSWORD } });
  });

  after(async () => {
    await server?.stop();
    if (dir) removeDir(dir);
  });

  it('the server really requires auth: an unauthenticated command is refused', async () => {
    const reply = await rawCommand({ host: HOST, port: server.port }, 'version\r\n');
    assert.match(reply.toString('latin1'), /CLIENT_ERROR unauthenticated/);
  });

  /** A cache configured with `credential.username`/`credential.password`. */
  function cacheWithCredential(username: string, password: string): MemcachedCache {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        HOST,
        'connection.port',
        server.port,
        'credential.username',
        username,
        'credential.password',
        password,
        ...baseOptions(),
      ),
    );
    return cache;
  }

  it('credential.username/password work', async () => {
    await roundTrip(cacheWithCredential(USER, PASSWORD), 'auth:credential');
  });

  it('a non-ASCII user name and password reach the server byte for byte', async () => {
    await roundTrip(cacheWithCredential(UNICODE_USER, UNICODE_PASSWORD), 'auth:unicode');
  });

  it('memcached://user:pass@host:port works (percent-encoded password)', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.uri',
        `memcached://${USER}:${encodeURIComponent(PASSWORD)}@${HOST}:${server.port}`,
        ...baseOptions(),
      ),
    );
    await roundTrip(cache, 'auth:uri');
  });

  it('credentials from a *:credential-store:*:*:1.0 reference (credential.store_key) work', async () => {
    const store = new MemoryCredentialStore(
      ConfigParams.fromTuples(
        'memcached-main.username',
        OTHER_USER,
        'memcached-main.password',
        OTHER_PASSWORD,
      ),
    );
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        HOST,
        'connection.port',
        server.port,
        'credential.store_key',
        'memcached-main',
        ...baseOptions(),
      ),
    );
    cache.setReferences(
      References.fromTuples(
        new Descriptor('pip-services', 'credential-store', 'memory', 'default', '1.0'),
        store,
      ),
    );
    await roundTrip(cache, 'auth:store');
  });

  it('a store_key with no credential store referenced is a ConfigError naming credential.store_key', async () => {
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connection.host',
        HOST,
        'connection.port',
        server.port,
        'credential.store_key',
        'nope',
        ...baseOptions(),
      ),
    );
    await assert.rejects(cache.open('cfg'), (error: unknown) => {
      assert.ok(error instanceof MemcachedCacheError);
      assert.equal(error.code, 'CONFIG');
      assert.match(error.message, /credential\.store_key/);
      return true;
    });
  });

  const wrongConfigs: Array<[string, () => ConfigParams]> = [
    [
      'credential.password',
      () =>
        ConfigParams.fromTuples(
          'connection.host',
          HOST,
          'connection.port',
          server.port,
          'credential.username',
          USER,
          'credential.password',
          WRONG_PASSWORD,
          ...baseOptions(),
        ),
    ],
    [
      'uri user info',
      () =>
        ConfigParams.fromTuples(
          'connection.uri',
          `memcached://${USER}:${WRONG_PASSWORD}@${HOST}:${server.port}`,
          ...baseOptions(),
        ),
    ],
  ];
  for (const [how, config] of wrongConfigs) {
    it(`a wrong password (${how}) rejects open() with AuthenticationError and leaks nothing`, async (t) => {
      const cache = new MemcachedCache();
      const params = config();
      cache.configure(params);
      let caught: unknown;
      try {
        await cache.open('trace-auth');
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof AuthenticationError, `expected AuthenticationError, got ${String(caught)}`);
      assert.equal(caught.code, 'AUTHENTICATION');
      assert.ok(caught instanceof MemcachedCacheError);
      assert.equal(caught.traceId, 'trace-auth');
      assert.match(caught.message, new RegExp(`${HOST}:${server.port}`));
      assert.equal(cache.isOpen(), false, 'never a silently open (and empty) cache');
      await assert.rejects(cache.retrieve('trace-auth', 'k'), { code: 'INVALID_STATE' });
      t.diagnostic(`error: ${String(caught)}`);
      const secrets = [WRONG_PASSWORD, PASSWORD];
      assertNoSecret('the error', errorTexts(caught), secrets);
      assertNoSecret(
        'the cache',
        [inspect(cache, { depth: 8 }), inspect(cache, { depth: 8, showHidden: true })],
        secrets,
      );
      // (ConfigParams.toString() is pip-services' key=value serialisation and round-trips every
      // value by design; what may end up in a log by accident is util.inspect / console.log.)
      assertNoSecret(
        'the config',
        [inspect(params, { depth: 8 }), inspect(params, { depth: 8, showHidden: true })],
        secrets,
      );
      await cache.close('trace-auth');
    });
  }

  it('an open cache does not show the password through util.inspect', async () => {
    const params = ConfigParams.fromTuples(
      'connection.uri',
      `memcached://${USER}:${encodeURIComponent(PASSWORD)}@${HOST}:${server.port}`,
      'credential.username',
      USER,
      'credential.password',
      PASSWORD,
      ...baseOptions(),
    );
    const cache = new MemcachedCache();
    cache.configure(params);
    await cache.open('inspect');
    try {
      await cache.store('inspect', 'auth:inspect', 1, 10_000);
      assertNoSecret(
        'the open cache',
        [
          inspect(cache, { depth: 10 }),
          inspect(cache.getClient(), { depth: 10 }),
          inspect(params, { depth: 10 }),
          JSON.stringify(cache.getClient().options),
        ],
        [PASSWORD],
      );
      // A standalone client built from a server list (the CLI's path) hides it too.
      const standalone = new MemcachedClient({
        servers: endpointsFromServerList(
          `memcached://${USER}:${encodeURIComponent(PASSWORD)}@${HOST}:${server.port}`,
        ),
      });
      try {
        await standalone.set('auth:standalone', 'x');
        assertNoSecret(
          'a standalone client',
          [inspect(standalone, { depth: 10 }), JSON.stringify(standalone.options)],
          [PASSWORD],
        );
      } finally {
        standalone.close();
      }
    } finally {
      await cache.close('inspect');
    }
  });

  it('a wrong password on one of two servers: open() succeeds on the other, ops routed to it fail loudly', async () => {
    // Both entries point at the same memcached under different names: only the second one's password is wrong.
    const cache = new MemcachedCache();
    cache.configure(
      ConfigParams.fromTuples(
        'connections.0.uri',
        `memcached://${USER}:${encodeURIComponent(PASSWORD)}@${HOST}:${server.port}`,
        'connections.1.uri',
        `memcached://${OTHER_USER}:${WRONG_PASSWORD}@localhost:${server.port}`,
        ...baseOptions(),
      ),
    );
    await cache.open('mixed');
    try {
      const client = cache.getClient();
      const good = `${HOST}:${server.port}`;
      const bad = `localhost:${server.port}`;
      const keyOn = (id: string): string => {
        for (let i = 0; ; i++) if (client.serverFor(`mixed:${i}`) === id) return `mixed:${i}`;
      };
      const goodKey = keyOn(good);
      assert.equal(await cache.store('mixed', goodKey, 'ok', 10_000), 'ok');
      assert.equal(await cache.retrieve('mixed', goodKey), 'ok');
      // Never a silent miss: an op on the refusing server fails, and names the refusal — as an
      // AuthenticationError, or (while the pool backs off before reconnecting) as a
      // ConnectionError, which counts toward ejection, caused by it.
      await assert.rejects(cache.retrieve('mixed', keyOn(bad)), (error: unknown) => {
        assert.ok(error instanceof MemcachedCacheError, String(error));
        const cause = (error as { cause?: unknown }).cause;
        assert.ok(
          error instanceof AuthenticationError ||
            (error.code === 'CONNECTION' && cause instanceof AuthenticationError),
          String(error),
        );
        assert.match(error.message, /refused the credentials/);
        assertNoSecret('the op error', errorTexts(error), [WRONG_PASSWORD, PASSWORD]);
        return true;
      });
    } finally {
      await cache.close('mixed');
    }
  });
});
