import type { SelectorFactory } from '../cluster/ServerSelector.js';
import { type ServerEndpoint, withHiddenPassword } from '../transport/ServerEndpoint.js';

export interface MemcachedClientOptions {
  /** The servers; keys are spread over them by consistent hashing. */
  servers: ServerEndpoint[];
  /** Most connections per server (`pool_size`). Default 5. */
  poolSize?: number;
  /** Longest a (re)connection may take, ms (`reconnect`). Default 10,000. */
  connectTimeoutMs?: number;
  /** Longest wait for one reply, ms (`request_timeout`). Default 1,000. */
  requestTimeoutMs?: number;
  /** Idle connections close after this many ms (`idle`); 0 keeps them. Default 5,000. */
  idleTimeoutMs?: number;
  /** Retries after a transport failure (`retries`). Default 3. */
  retries?: number;
  /** Consecutive failures that eject a server (`failures`). Default 5. */
  failures?: number;
  /** How long an ejected server stays out before a probe, ms (`retry`). Default 30,000. */
  retryMs?: number;
  /** Longest key in UTF-8 bytes (`max_key_size`). Default 250. */
  maxKeySize?: number;
  /** Largest value in bytes (`max_value`). Default 1,048,576. */
  maxValueSize?: number;
  /**
   * Most calls pending at once in this client (`max_pending`; a batch read counts one per key).
   * Past it a call rejects at once with OverloadedError (code `OVERLOADED`) instead of queueing
   * behind work that cannot finish within `request_timeout`. Default 16,384.
   */
  maxPending?: number;
  /** Key → server distribution; default libmemcached-compatible weighted ketama. */
  selector?: SelectorFactory;
}

export type ResolvedClientOptions = Required<Omit<MemcachedClientOptions, 'selector'>> & {
  selector?: SelectorFactory;
};

export const CLIENT_DEFAULTS = {
  poolSize: 5,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 1_000,
  idleTimeoutMs: 5_000,
  retries: 3,
  failures: 5,
  retryMs: 30_000,
  maxKeySize: 250,
  maxValueSize: 1_048_576,
  maxPending: 16_384,
} as const;

export function resolveClientOptions(options: MemcachedClientOptions): ResolvedClientOptions {
  // Copies whose password is not enumerable, so inspecting the client never prints it.
  const servers = options.servers.map(withHiddenPassword);
  const resolved: ResolvedClientOptions = { ...CLIENT_DEFAULTS, ...stripUndefined(options), servers };
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
