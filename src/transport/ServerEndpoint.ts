import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

/** Where one memcached server listens and how to talk to it. */
export interface ServerEndpoint {
  /** `host:port` (IPv6 hosts in brackets) or the unix socket path: the name used for routing and errors. */
  id: string;
  host: string;
  port: number;
  /** Set for a unix-domain socket; `host`/`port` are then ignored. */
  socketPath?: string;
  /** TLS options when the server speaks TLS (`-Z`); absent for plain TCP. */
  tls?: TlsConnectionOptions;
  /** memcached ASCII authentication (`-Y`). */
  username?: string;
  password?: string;
  /** Ketama weight; default 1. */
  weight?: number;
}

/**
 * A shallow copy of `endpoint` whose `password` is not enumerable: still readable by the
 * transport, but util.inspect, console.log and JSON.stringify of a client (its options and pools
 * hold the endpoints) do not print it.
 */
export function withHiddenPassword(endpoint: ServerEndpoint): ServerEndpoint {
  const { password, ...rest } = endpoint;
  const copy: ServerEndpoint = { ...rest };
  if (password !== undefined) {
    Object.defineProperty(copy, 'password', {
      value: password,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
