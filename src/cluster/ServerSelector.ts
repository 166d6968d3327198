/**
 * Key → server selection, pure logic. A selector maps the raw UTF-8 bytes of a key (before any
 * base64 encoding for the wire, and after any key prefix) to a server id.
 */

/** One server of a cluster. `id` is how every layer names it: `host:port`, or a socket path. */
export interface ServerSpec {
  readonly id: string;
  /** Host name or address exactly as configured: it is hashed into ketama points as written. */
  readonly host: string;
  /** TCP port; use 0 for a unix socket (libmemcached does). */
  readonly port: number;
  /** Relative weight, a positive integer; missing or 0 means 1 (as in libmemcached). */
  readonly weight?: number;
}

export interface ServerSelector {
  /** The server for `key`, or `undefined` when the selector has no servers. */
  pick(key: Uint8Array): string | undefined;
  /** The ids this selector routes over, in configuration order. */
  readonly ids: readonly string[];
}

/** Builds a selector over a set of servers; the router calls it again whenever membership changes. */
export type SelectorFactory = (servers: readonly ServerSpec[]) => ServerSelector;

/** The id the package uses for a server: `host:port`, or the bare path for a unix socket. */
export function serverId(host: string, port: number): string {
  if (port === 0 || host.startsWith('/')) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
