import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { type Distribution, selectorOption } from '../client/ClientOptions.js';
import { toTransportEndpoint } from '../client/endpoints.js';
import { MemcachedClient } from '../client/MemcachedClient.js';
import { withTrace } from '../component/ComponentKey.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { ConnectionResolver } from '../component/ConnectionResolver.js';
import type { CredentialParams } from '../component/CredentialParams.js';
import { CredentialResolver } from '../component/CredentialResolver.js';
import { ConfigError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';
import type { IReferences } from '../component/IReferences.js';
import { parseServerList } from '../component/ServerList.js';
import type { AutoDiscoveryMode } from '../topology/serverListSource.js';
import type { WireProtocol } from '../transport/Connection.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import { type ClientNumbers, readClientOptions, readOption } from './ComponentOptions.js';

/** The connection-level options shared by MemcachedCache and MemcachedLock (COMPONENT_OPTIONS). */
export interface ConnectorOptions {
  /** The rows that are client options, by client option name (see readClientOptions). */
  client: ClientNumbers;
  tlsRejectUnauthorized: boolean;
  autoDiscovery: 'none' | AutoDiscoveryMode;
  /** Key distribution: `ketama` (libmemcached, default) or `rendezvous` (pymemcache HashClient). */
  distribution: Distribution;
  /** `meta` (memcached itself) or `text` (behind a proxy). */
  protocol: WireProtocol;
  keyPrefix: string;
  /** ms */
  failoverTtl: number;
  outageRecordSize: number;
}

/** Reads and validates the `options.*` the client uses; every error names its key. */
export function readConnectorOptions(config: ConfigParams | null): ConnectorOptions {
  return {
    client: readClientOptions(config),
    autoDiscovery: readOption(config, 'auto_discovery'),
    tlsRejectUnauthorized: readOption(config, 'tls_reject_unauthorized'),
    distribution: readOption(config, 'distribution'),
    protocol: readOption(config, 'protocol'),
    keyPrefix: readOption(config, 'key_prefix'),
    failoverTtl: readOption(config, 'failover_ttl'),
    outageRecordSize: readOption(config, 'outage_record_size'),
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
    // Validate everything before replacing anything: a rejected config leaves the old one whole.
    const options = readConnectorOptions(config);
    const connections = new ConnectionResolver(config, this.references);
    const credentials = new CredentialResolver(config, this.references);
    this.options = options;
    this.connections = connections;
    this.credentials = credentials;
  }

  setReferences(references: IReferences): void {
    this.references = references;
    this.connections.setReferences(references);
    this.credentials.setReferences(references);
  }

  /**
   * Resolves the servers and builds a client for them, not yet connected (the caller connects
   * it, so that it can close it while it connects). With `auto_discovery` the resolved
   * connections are where the client discovers its servers; with a `discovery_key`, the
   * discovery references are asked again every `discovery_interval`.
   */
  async createClient(context: ContextLike): Promise<MemcachedClient> {
    try {
      const endpoints = await this.resolveEndpoints(context);
      const o = this.options;
      const watched =
        o.autoDiscovery === 'none' && this.connections.getAll().some((c) => c.getDiscoveryKey());
      return new MemcachedClient({
        servers: endpoints,
        ...o.client,
        ...(o.autoDiscovery === 'none' ? {} : { autoDiscovery: o.autoDiscovery }),
        ...(watched ? { discoverServers: () => this.resolveEndpoints(context) } : {}),
        protocol: o.protocol,
        ...selectorOption(o.distribution, o.protocol),
      });
    } catch (error) {
      throw withTrace(error, context);
    }
  }

  /** The configured connections (discovery keys resolved) as endpoints with credentials and TLS. */
  private async resolveEndpoints(context: ContextLike): Promise<ServerEndpoint[]> {
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
    return endpoints;
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
