/**
 * What every CLI command shares: global options, building a client from them, exit codes and
 * error reporting.
 */
import type { ParseArgsConfig } from 'node:util';
import { DISTRIBUTIONS, type Distribution, selectorOption, WIRE_PROTOCOLS } from '../client/ClientOptions.js';
import { endpointsFromServerList } from '../client/endpoints.js';
import { MemcachedClient } from '../client/MemcachedClient.js';
import { MemcachedCacheError, type MemcachedErrorCode } from '../component/errors.js';
import { AUTO_DISCOVERY_MODES, type AutoDiscoveryMode } from '../topology/serverListSource.js';
import type { WireProtocol } from '../transport/Connection.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';

/** Exit codes, documented in `memcached-cache --help`. */
export const Exit = {
  Ok: 0,
  /** `get` of a missing key. */
  Miss: 1,
  /** Bad usage: unknown command/option, missing or invalid argument. */
  Usage: 2,
  /** The server(s) could not be reached, timed out or answered with an error. */
  Server: 3,
  /**
   * Other clients won a race on the key while the server answered every request (CONTENTION,
   * LOCK_TIMEOUT): retrying later may succeed, and no server is at fault.
   */
  Contention: 4,
} as const;

/** The exit code of each error code: a new code does not compile until it is given one. */
const EXIT_BY_ERROR_CODE: Readonly<Record<MemcachedErrorCode, number>> = {
  CONFIG: Exit.Usage,
  INVALID_KEY: Exit.Usage,
  INVALID_VALUE: Exit.Usage,
  VALUE_TOO_LARGE: Exit.Usage,
  CONTENTION: Exit.Contention,
  LOCK_TIMEOUT: Exit.Contention,
  REF_NOT_FOUND: Exit.Server,
  CONNECTION: Exit.Server,
  TIMEOUT: Exit.Server,
  OVERLOADED: Exit.Server,
  CORRUPT_VALUE: Exit.Server,
  LOADER_TIMEOUT: Exit.Server,
  SERVER_ERROR: Exit.Server,
  PROTOCOL: Exit.Server,
  UNSUPPORTED_SERVER: Exit.Server,
  AUTHENTICATION: Exit.Server,
  INVALID_STATE: Exit.Server,
  ABORTED: Exit.Server,
  CANNOT_CREATE: Exit.Server,
};

export const DEFAULT_SERVERS = '127.0.0.1:11211';

/** The options every command accepts. */
export const GLOBAL_OPTIONS = {
  servers: { type: 'string', short: 's' },
  uri: { type: 'string' },
  timeout: { type: 'string' },
  distribution: { type: 'string' },
  protocol: { type: 'string' },
  discovery: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_HELP = `Global options:
  -s, --servers <host:port,…>   servers to use (default ${DEFAULT_SERVERS})
      --uri <uri>               same, as a URI: memcached://host:port,host2:port2,
                                memcacheds://… (TLS), memcached://user:pass@host:port
      --timeout <ms>            connect and request timeout (default 2000)
      --distribution <name>     ketama (default, libmemcached) or rendezvous (pymemcache)
      --protocol <name>         meta (default: memcached itself) or text (behind a proxy
                                such as twemproxy or mcrouter; stats, flush, top need meta)
      --discovery <mode>        discover the servers from --servers/--uri: elasticache
                                (config get cluster), elasticache_legacy or dns
      --json                    print one JSON document on stdout (top: one per refresh),
                                errors as {"error":{"code","message"}} on stderr; exit codes
                                are the same. Binary values are base64 ("encoding":"base64"),
                                counters and CAS are strings; unreachable servers are
                                {"server","error":{"code","message"}} rows
  -h, --help                    show help`;

export interface GlobalValues {
  servers?: string | undefined;
  uri?: string | undefined;
  timeout?: string | undefined;
  distribution?: string | undefined;
  protocol?: string | undefined;
  discovery?: string | undefined;
  json?: boolean | undefined;
}

/** A mistake in how the command was called: printed with a hint, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
}

/** Parses a non-negative whole number option; a UsageError names the option. */
export function wholeNumber(text: string | undefined, option: string, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${option} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got '${text}'`);
  }
  return Number(text);
}

/** The servers named by --servers/--uri, as transport endpoints. */
export function endpointsFrom(values: GlobalValues): ServerEndpoint[] {
  if (values.servers !== undefined && values.uri !== undefined)
    throw new UsageError('use either --servers or --uri, not both');
  const text = values.uri ?? values.servers ?? DEFAULT_SERVERS;
  const option = values.uri !== undefined ? '--uri' : '--servers';
  let parsed: ServerEndpoint[];
  try {
    parsed = endpointsFromServerList(text, option);
  } catch (error) {
    const message =
      error instanceof Error ? error.message.replace(/config key '([^']+)'/, '$1') : String(error);
    throw new UsageError(message);
  }
  return parsed;
}

/**
 * A client over `endpoints` (default: those of the global options), tuned for a short-lived CLI.
 * With --discovery the endpoints are where the servers are discovered, and this resolves once
 * the first discovery has given them (a failure closes the client and rejects, naming the
 * endpoints).
 */
export async function openClient(
  values: GlobalValues,
  endpoints = endpointsFrom(values),
): Promise<MemcachedClient> {
  const timeout = wholeNumber(values.timeout, 'timeout', 2000, 1);
  const distribution = values.distribution ?? DISTRIBUTIONS[0];
  if (!(DISTRIBUTIONS as readonly string[]).includes(distribution)) {
    throw new UsageError(`--distribution must be ${DISTRIBUTIONS.join(' or ')}, got '${distribution}'`);
  }
  const protocol = values.protocol ?? WIRE_PROTOCOLS[0]!;
  if (!(WIRE_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new UsageError(`--protocol must be one of ${WIRE_PROTOCOLS.join(', ')}, got '${protocol}'`);
  }
  const discovery = values.discovery;
  if (discovery !== undefined && !(AUTO_DISCOVERY_MODES as readonly string[]).includes(discovery)) {
    throw new UsageError(`--discovery must be one of ${AUTO_DISCOVERY_MODES.join(', ')}, got '${discovery}'`);
  }
  const client = new MemcachedClient({
    servers: endpoints,
    poolSize: 4,
    connectTimeoutMs: timeout,
    requestTimeoutMs: timeout,
    idleTimeoutMs: 0,
    retries: 0,
    protocol: protocol as WireProtocol,
    ...(discovery === undefined ? {} : { autoDiscovery: discovery as AutoDiscoveryMode }),
    ...selectorOption(distribution as Distribution, protocol as WireProtocol),
  });
  if (discovery !== undefined) {
    try {
      await client.connect();
    } catch (error) {
      client.close();
      throw error;
    }
  }
  return client;
}

/** The data servers: those of the global options, or with --discovery the ones discovered. */
export async function dataServers(values: GlobalValues): Promise<ServerEndpoint[]> {
  if (values.discovery === undefined) return endpointsFrom(values);
  const client = await openClient(values);
  try {
    return client.servers;
  } finally {
    client.close();
  }
}

/**
 * Runs `call` on each server with a client of its own, so one unreachable server fails only
 * its own row; resolves each outcome in order.
 */
export function perServer<T>(
  values: GlobalValues,
  servers: readonly ServerEndpoint[],
  call: (client: MemcachedClient) => Promise<T>,
): Promise<Array<{ id: string; result: T | null; error: unknown }>> {
  const single = { ...values, discovery: undefined };
  return Promise.all(
    servers.map(async (server) => {
      const client = await openClient(single, [server]);
      try {
        return { id: server.id, result: await call(client), error: null };
      } catch (error) {
        return { id: server.id, result: null, error };
      } finally {
        client.close();
      }
    }),
  );
}

/**
 * Prints each row's error on stderr (not with --json: the rows carry their errors); Exit.Server
 * when there was one.
 */
export function reportRowErrors(
  io: Io,
  command: string,
  rows: ReadonlyArray<{ error: unknown }>,
  json = false,
): number {
  let code: number = Exit.Ok;
  for (const row of rows) {
    if (row.error !== null) {
      if (!json) io.stderr.write(`memcached-cache: ${command}: ${describeError(row.error)}\n`);
      code = Exit.Server;
    }
  }
  return code;
}

/** Key/value errors: exit 2. Connection, timeout and server errors: 3. Contention: 4. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return Exit.Usage;
  if (error instanceof MemcachedCacheError) return EXIT_BY_ERROR_CODE[error.code] ?? Exit.Server;
  return Exit.Server;
}

/** One line for stderr: expected errors without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof MemcachedCacheError && error.code === 'CONNECTION' && error.server !== undefined) {
    return `cannot reach memcached at ${error.server}: ${error.message}`;
  }
  // The message names the component and client options; on the command line it is a flag.
  if (error instanceof MemcachedCacheError && error.code === 'UNSUPPORTED_SERVER')
    return `${error.message}; on the command line: --protocol text`;
  if (error instanceof UsageError || error instanceof MemcachedCacheError) return error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

/** Pads cells so columns line up; `right` marks right-aligned (numeric) columns. */
export function formatTable(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 && !right[i]
            ? cell
            : right[i]
              ? cell.padStart(widths[i]!)
              : cell.padEnd(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
