/**
 * `ParsedServer` and `parseServerList`: the step between pip-services' loosely typed
 * `ConnectionParams` and the transport, which needs a validated list of servers.
 *
 * Accepted forms, per connection (`connection.*` or each `connections.N.*`):
 * - `host` (or `ip`) + optional `port` (default 11211) + optional `protocol`
 *   (`memcached`/`memcache`/`tcp`, or `memcacheds`/`tls`/`ssl` for TLS);
 * - `uri`, which wins over `host`/`port` when both are set, and may list several servers:
 *   `memcached://host:port`, `memcacheds://host:port` (TLS), `host:port,host2:port2`,
 *   `memcached://user:pass@host:port` (ASCII auth; percent-encode `@ , :` in the password),
 *   `unix:///path/to.sock` (or a bare absolute path), IPv6 in brackets `[::1]:11211`.
 *   In a list, an item without scheme inherits the previous item's scheme, so
 *   `memcacheds://a:1,b:2` is TLS for both.
 *
 * Every problem is a `ConfigError` whose message names the config key (`connection.port`,
 * `connections.1.uri`). Passwords never appear in messages: URIs are quoted with the password
 * replaced by `***`.
 */
import { isIPv6 } from 'node:net';
import type { ConnectionParams } from './ConnectionParams.js';
import { ConfigError } from './errors.js';

/** memcached's standard port. */
export const DEFAULT_MEMCACHED_PORT = 11211;

export interface ParsedServer {
  /** Host name or IP (IPv6 without brackets). For a unix socket: the socket path. */
  host: string;
  /** 1–65535. For a unix socket: 0. */
  port: number;
  /** Set for unix domain sockets; `host`/`port` are then informational only. */
  socketPath?: string;
  /** Connect with TLS (`memcacheds://` or `protocol: memcacheds`). */
  tls: boolean;
  /** From URI user info (`memcached://user:pass@host`); credentials may also come from `credential.*`. */
  username?: string;
  password?: string;
}

export interface ParseServerOptions {
  /** Port used when none is given; default 11211. */
  defaultPort?: number;
}

const PLAIN_SCHEMES = new Set(['memcached', 'memcache', 'tcp']);
const TLS_SCHEMES = new Set(['memcacheds', 'tls', 'ssl']);
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

/** The URI (or comma list) with every password replaced by `***`, safe to print. */
export function redactUri(uri: string): string {
  return uri
    .split(',')
    .map((part) => {
      const at = part.lastIndexOf('@');
      if (at < 0) return part;
      const schemeEnd = part.indexOf('://');
      const start = schemeEnd >= 0 && schemeEnd < at ? schemeEnd + 3 : 0;
      const userinfo = part.substring(start, at);
      const colon = userinfo.indexOf(':');
      if (colon < 0) return part;
      return `${part.substring(0, start)}${userinfo.substring(0, colon)}:***${part.substring(at)}`;
    })
    .join(',');
}

function schemeIsTls(scheme: string, configKey: string, shown: string): boolean {
  if (PLAIN_SCHEMES.has(scheme)) return false;
  if (TLS_SCHEMES.has(scheme)) return true;
  throw new ConfigError(
    `config key '${configKey}' has unsupported scheme '${scheme}' in '${shown}': use memcached://, memcacheds:// or unix://`,
    { details: { configKey } },
  );
}

/** Validates port text; `what` is the key named in errors. */
function parsePort(text: string, configKey: string, suffix: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const port = Number(trimmed);
    if (port >= 1 && port <= 65535) return port;
  }
  throw new ConfigError(
    `config key '${configKey}' must be a port between 1 and 65535, got '${trimmed}'${suffix}`,
    { details: { configKey } },
  );
}

/** Validates a host; brackets around IPv6 are removed. */
function parseHost(text: string, configKey: string, suffix: string): string {
  let host = text.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.substring(1, host.length - 1);
  const colons = host.split(':').length - 1;
  const ok = colons >= 2 ? isIPv6(host) : colons === 0 && HOSTNAME.test(host);
  if (!ok) {
    const hint = colons === 1 ? ' (put the port in the port key, or use uri host:port)' : '';
    throw new ConfigError(
      `config key '${configKey}' is not a valid host name or IP, got '${host}'${hint}${suffix}`,
      {
        details: { configKey },
      },
    );
  }
  return host;
}

function malformed(configKey: string, shown: string, why: string, suffix: string): ConfigError {
  return new ConfigError(`config key '${configKey}' is a malformed server uri '${shown}': ${why}${suffix}`, {
    details: { configKey },
  });
}

interface PartResult {
  endpoint: ParsedServer;
  scheme: string | null;
}

function parseUriPart(
  part: string,
  inheritedScheme: string | null,
  configKey: string,
  defaultPort: number,
  suffix: string,
): PartResult {
  const shown = redactUri(part);
  let rest = part;
  let scheme = inheritedScheme;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.substring(m[0].length);
  } else if (rest.startsWith('/')) {
    scheme = 'unix';
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:\/(?!\/)/.test(rest)) {
    throw malformed(configKey, shown, 'expected scheme://', suffix);
  }

  if (scheme === 'unix') {
    if (!rest.startsWith('/') || rest.length < 2 || /[?#]/.test(rest)) {
      throw malformed(
        configKey,
        shown,
        'a unix socket needs an absolute path (unix:///path/to.sock)',
        suffix,
      );
    }
    return { endpoint: { host: rest, port: 0, socketPath: rest, tls: false }, scheme };
  }
  const tls = scheme === null ? false : schemeIsTls(scheme, configKey, shown);

  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.substring(0, at);
    rest = rest.substring(at + 1);
    const colon = userinfo.indexOf(':');
    try {
      const user = decodeURIComponent(colon >= 0 ? userinfo.substring(0, colon) : userinfo);
      if (user !== '') username = user;
      if (colon >= 0) password = decodeURIComponent(userinfo.substring(colon + 1));
    } catch {
      throw malformed(configKey, shown, 'user info is not valid percent-encoding', suffix);
    }
  }

  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (rest.substring(slash) !== '/') throw malformed(configKey, shown, 'paths are not supported', suffix);
    rest = rest.substring(0, slash);
  }
  if (/[?#\s]/.test(rest)) throw malformed(configKey, shown, 'unexpected character', suffix);
  if (rest === '') throw malformed(configKey, shown, 'no host', suffix);

  let hostText: string;
  let portText: string | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw malformed(configKey, shown, "missing ']' after IPv6 address", suffix);
    hostText = rest.substring(0, close + 1);
    const after = rest.substring(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw malformed(configKey, shown, "expected ':port' after ']'", suffix);
      portText = after.substring(1);
    }
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1)
      throw malformed(configKey, shown, 'IPv6 addresses must be in brackets: [::1]:11211', suffix);
    const colon = rest.indexOf(':');
    hostText = colon >= 0 ? rest.substring(0, colon) : rest;
    if (colon >= 0) portText = rest.substring(colon + 1);
  }
  if (hostText === '' || hostText === '[]') throw malformed(configKey, shown, 'no host', suffix);
  if (portText === '') throw malformed(configKey, shown, "empty port after ':'", suffix);

  const endpoint: ParsedServer = {
    host: parseHost(hostText, configKey, suffix),
    port: portText === null ? defaultPort : parsePort(portText, configKey, suffix),
    tls,
  };
  if (username !== undefined) endpoint.username = username;
  if (password !== undefined) endpoint.password = password;
  return { endpoint, scheme };
}

/** Parses one `uri` value (possibly a comma list). `configKey` is named in errors. */
export function parseServerUri(
  uri: string,
  configKey: string,
  options: ParseServerOptions = {},
): ParsedServer[] {
  return parseUriValue(uri, configKey, options.defaultPort ?? DEFAULT_MEMCACHED_PORT, '');
}

function parseUriValue(uri: string, configKey: string, defaultPort: number, suffix: string): ParsedServer[] {
  if (uri.trim() === '') {
    throw new ConfigError(`config key '${configKey}' is empty${suffix}`, { details: { configKey } });
  }
  const result: ParsedServer[] = [];
  let scheme: string | null = null;
  for (const raw of uri.split(',')) {
    const part = raw.trim();
    if (part === '') throw malformed(configKey, redactUri(uri), 'empty item in the server list', suffix);
    const parsed = parseUriPart(part, scheme, configKey, defaultPort, suffix);
    scheme = parsed.scheme;
    result.push(parsed.endpoint);
  }
  return result;
}

/**
 * Turns resolved connections (after `ConnectionResolver.resolveAll`) into endpoints, in order.
 * Errors name `<configPath>.<key>`; a connection without `configPath` is called `connections.<i>`.
 * An empty list, or a connection with neither `uri` nor `host`, is a `ConfigError`.
 */
export function parseServerList(
  connections: readonly ConnectionParams[],
  options: ParseServerOptions = {},
): ParsedServer[] {
  const defaultPort = options.defaultPort ?? DEFAULT_MEMCACHED_PORT;
  if (connections.length === 0) {
    throw new ConfigError(
      "config key 'connection' is missing: set connection.host, connection.uri, connection.discovery_key or connections.N.*",
      { details: { configKey: 'connection' } },
    );
  }
  const result: ParsedServer[] = [];
  connections.forEach((connection, index) => {
    const path = connection.configPath ?? `connections.${index}`;
    const discoveryKey = connection.getDiscoveryKey();
    const suffix = discoveryKey ? ` (resolved through discovery_key '${discoveryKey}')` : '';

    const protocolText = connection.getProtocol();
    let protocolTls = false;
    if (protocolText != null && protocolText.trim() !== '') {
      const protocol = protocolText.trim().toLowerCase();
      if (TLS_SCHEMES.has(protocol)) protocolTls = true;
      else if (!PLAIN_SCHEMES.has(protocol)) {
        throw new ConfigError(
          `config key '${path}.protocol' must be one of memcached, memcacheds, got '${protocolText}'${suffix}`,
          { details: { configKey: `${path}.protocol` } },
        );
      }
    }

    const portText = connection.getAsNullableString('port');
    const hasPort = portText != null && portText.trim() !== '';
    const uri = connection.getUri();
    if (uri != null) {
      // An explicit port key is the default for uri items without a port.
      const fallback = hasPort ? parsePort(portText, `${path}.port`, suffix) : defaultPort;
      for (const endpoint of parseUriValue(uri, `${path}.uri`, fallback, suffix)) {
        if (protocolTls && endpoint.socketPath === undefined) endpoint.tls = true;
        result.push(endpoint);
      }
      return;
    }

    const hostText = connection.getHost();
    if (hostText == null || hostText.trim() === '') {
      const why = discoveryKey
        ? `discovery_key '${discoveryKey}' resolved to a connection without host or uri`
        : `set ${path}.host, ${path}.uri or ${path}.discovery_key`;
      throw new ConfigError(`config key '${path}.host' is missing: ${why}`, {
        details: { configKey: `${path}.host` },
      });
    }
    result.push({
      host: parseHost(hostText, `${path}.host`, suffix),
      port: hasPort ? parsePort(portText, `${path}.port`, suffix) : defaultPort,
      tls: protocolTls,
    });
  });
  return result;
}
