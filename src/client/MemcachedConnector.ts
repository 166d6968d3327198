import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { rendezvousSelector } from '../cluster/RendezvousSelector.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { readBoolean, readEnum, readInteger } from '../component/ConfigReaders.js';
import { ConnectionResolver } from '../component/ConnectionResolver.js';
import { ContextResolver } from '../component/ContextResolver.js';
import type { CredentialParams } from '../component/CredentialParams.js';
import { CredentialResolver } from '../component/CredentialResolver.js';
import { ConfigError, type MemcachedCacheError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import { parseServerList } from '../component/ServerEndpoint.js';
import { CLIENT_OPTIONS } from './ClientOptions.js';
import { toTransportEndpoint } from './endpoints.js';
import { MemcachedClient } from './MemcachedClient.js';

/** The connection-level options shared by MemcachedCache and MemcachedLock, with their units. */
export interface ConnectorOptions {
  maxKeySize: number;
  maxValue: number;
  poolSize: number;
  /** ms */
  reconnect: number;
  retries: number;
  failures: number;
  /** ms */
  retry: number;
  /** ms */
  idle: number;
  /** ms */
  requestTimeout: number;
  tlsRejectUnauthorized: boolean;
  maxPending: number;
  /** Key distribution: `ketama` (libmemcached, default) or `rendezvous` (pymemcache HashClient). */
  distribution: 'ketama' | 'rendezvous';
}

/** Reads `options.<key>` for a client option, with the default and range of CLIENT_OPTIONS. */
function readClientOption(config: ConfigParams | null, name: keyof typeof CLIENT_OPTIONS): number {
  const spec = CLIENT_OPTIONS[name];
  return readInteger(config, spec.configKey, spec.default, { min: spec.min, max: spec.max });
}

/** Reads and validates the `options.*` the client uses; every error names its key. */
export function readConnectorOptions(config: ConfigParams | null): ConnectorOptions {
  return {
    maxKeySize: readClientOption(config, 'maxKeySize'),
    maxValue: readClientOption(config, 'maxValueSize'),
    poolSize: readClientOption(config, 'poolSize'),
    reconnect: readClientOption(config, 'connectTimeoutMs'),
    retries: readClientOption(config, 'retries'),
    failures: readClientOption(config, 'failures'),
    retry: readClientOption(config, 'retryMs'),
    idle: readClientOption(config, 'idleTimeoutMs'),
    requestTimeout: readClientOption(config, 'requestTimeoutMs'),
    maxPending: readClientOption(config, 'maxPending'),
    tlsRejectUnauthorized: readBoolean(config, 'options.tls_reject_unauthorized', true),
    distribution: readEnum(config, 'options.distribution', ['ketama', 'rendezvous'] as const, 'ketama'),
  };
}

/**
 * Turns pip-services configuration (connections, credentials, discovery and credential-store
 * references) into a connected MemcachedClient. Shared by MemcachedCache and MemcachedLock.
 */
export class MemcachedConnector {
  private connections = new ConnectionResolver();
  private credentials = new CredentialResolver();
  private references: IReferences | null = null;
  options: ConnectorOptions = readConnectorOptions(null);

  /**
   * Replaces the configuration. The resolvers append what they are given (as in pip-services),
   * so a second configure() starts from fresh ones instead of listing every server twice.
   */
  configure(config: ConfigParams): void {
    this.connections = new ConnectionResolver(config, this.references);
    this.credentials = new CredentialResolver(config, this.references);
    this.options = readConnectorOptions(config);
  }

  setReferences(references: IReferences): void {
    this.references = references;
    this.connections.setReferences(references);
    this.credentials.setReferences(references);
  }

  /** Resolves the servers, connects, and verifies that at least one answers. */
  async open(context: ContextLike): Promise<MemcachedClient> {
    const traceId = ContextResolver.getTraceId(context);
    try {
      const connections = await this.connections.resolveAll(context);
      const credential = await this.credentials.lookup(context);
      const endpoints = parseServerList(connections).map((e) =>
        toTransportEndpoint(e, {
          username: credential?.getUsername(),
          password: credential?.getPassword(),
          tls: () => this.tlsOptions(credential),
        }),
      );
      const seen = new Set<string>();
      for (const endpoint of endpoints) {
        if (seen.has(endpoint.id)) {
          throw new ConfigError(
            `config lists the server ${endpoint.id} more than once (connection/connections)`,
            {
              details: { configKey: 'connections', server: endpoint.id },
            },
          );
        }
        seen.add(endpoint.id);
      }
      const o = this.options;
      const client = new MemcachedClient({
        servers: endpoints,
        poolSize: o.poolSize,
        connectTimeoutMs: o.reconnect,
        requestTimeoutMs: o.requestTimeout,
        idleTimeoutMs: o.idle,
        retries: o.retries,
        failures: o.failures,
        retryMs: o.retry,
        maxKeySize: o.maxKeySize,
        maxValueSize: o.maxValue,
        maxPending: o.maxPending,
        ...(o.distribution === 'rendezvous' ? { selector: rendezvousSelector } : {}),
      });
      try {
        await client.connect();
      } catch (error) {
        client.close();
        throw error;
      }
      return client;
    } catch (error) {
      if (error instanceof Error && 'withTraceId' in error)
        (error as MemcachedCacheError).withTraceId(traceId);
      throw error;
    }
  }

  private tlsOptions(credential: CredentialParams | null): TlsConnectionOptions {
    const options: TlsConnectionOptions = { rejectUnauthorized: this.options.tlsRejectUnauthorized };
    const read = (key: 'ssl_ca_file' | 'ssl_crt_file' | 'ssl_key_file'): Buffer | undefined => {
      const path = credential?.getAsNullableString(key);
      if (!path) return undefined;
      try {
        return readFileSync(path);
      } catch (error) {
        throw new ConfigError(`config key 'credential.${key}' names a file that cannot be read: ${path}`, {
          cause: error,
          details: { configKey: `credential.${key}` },
        });
      }
    };
    const ca = read('ssl_ca_file');
    const cert = read('ssl_crt_file');
    const key = read('ssl_key_file');
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
    return options;
  }
}
