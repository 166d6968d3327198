import {
  CLIENT_OPTIONS,
  type ClientOptionSpec,
  DISTRIBUTIONS,
  type Distribution,
  MS_MAX,
  WIRE_PROTOCOLS,
} from '../client/ClientOptions.js';
import type { ConfigParams } from '../component/ConfigParams.js';
import { readBoolean, readEnum, readInteger, readString } from '../component/ConfigReaders.js';
import { frozenTable } from '../component/frozenTable.js';
import type { WireProtocol } from '../transport/Connection.js';

/** Which components read an option. */
export type OptionUsers = 'cache and lock' | 'cache' | 'lock';

interface OptionBase {
  /** Markdown: what it does, for the README's option table (generated from this table). */
  readonly meaning: string;
  readonly users: OptionUsers;
  /** The `MemcachedClient` option it becomes, if any. */
  readonly client?: keyof typeof CLIENT_OPTIONS;
}

export interface IntegerOption extends OptionBase {
  readonly type: 'integer';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: ClientOptionSpec['unit'];
}

export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly default: boolean;
}

export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly default: string;
}

export interface EnumOption<T extends string = string> extends OptionBase {
  readonly type: 'enum';
  readonly values: readonly T[];
  readonly default: T;
}

export type OptionSpec = IntegerOption | BooleanOption | StringOption | EnumOption;

/** A row for a client option: default, range and unit come from CLIENT_OPTIONS (their one home). */
function clientOption(client: keyof typeof CLIENT_OPTIONS, meaning: string): IntegerOption {
  const spec = CLIENT_OPTIONS[client];
  return {
    type: 'integer',
    default: spec.default,
    min: spec.min,
    max: spec.max,
    unit: spec.unit,
    client,
    users: 'cache and lock',
    meaning,
  };
}

function integer(
  value: number,
  range: { min: number; max: number },
  unit: IntegerOption['unit'],
  users: OptionUsers,
  meaning: string,
): IntegerOption {
  return { type: 'integer', default: value, ...range, unit, users, meaning };
}

/** A sanity bound for TTL-like options: about 10 years in ms. */
const MAX_TTL_MS = 2_592_000_000 * 12 * 10;

/**
 * Every `options.*` key MemcachedCache and MemcachedLock read: type, default, range, unit, who
 * reads it and what it means. Readers (`readOption`), the client defaults and the README's option
 * table all derive from it; a test fails when the README disagrees.
 */
export const COMPONENT_OPTIONS = frozenTable({
  max_size: integer(
    1000,
    { min: 0, max: 10_000_000 },
    'count',
    'cache',
    'entries in the optional near cache (see `near_cache_ttl`). memcached evicts by memory, not count, so this bounds only the in-process copy',
  ),
  max_key_size: clientOption(
    'maxKeySize',
    'longest key in UTF-8 bytes, after `key_prefix`; longer → `InvalidKeyError`, nothing sent. A key with spaces, control or non-ASCII characters travels base64-encoded, which makes it 4/3 as long on the wire: such a key may have at most 186 bytes',
  ),
  max_expiration: integer(
    2_592_000_000,
    { min: 1000, max: MAX_TTL_MS },
    'ms',
    'cache',
    'longest TTL (30 days); longer TTLs are clamped. The seed documents `2592000` under "milliseconds" — that is memcached\'s 30 days in *seconds*; we use ms throughout, so the seed\'s number would mean 43 minutes here',
  ),
  max_value: clientOption(
    'maxValueSize',
    "largest encoded value; larger → `ValueTooLargeError`, nothing sent, connection stays usable. memcached's own `-I` limit (default 1 MB including item overhead) still applies: a value just under 1 MB may get `ServerError` from a default server",
  ),
  pool_size: clientOption(
    'poolSize',
    'most connections per server (requests are pipelined; a new connection opens only when the open ones are busy)',
  ),
  reconnect: clientOption(
    'connectTimeoutMs',
    'connect timeout: the longest a (re)connection, TLS and auth handshake may take; a server that accepts the socket but leaves the handshake unanswered fails after `request_timeout`',
  ),
  retries: clientOption(
    'retries',
    'retries after a transport failure, within `request_timeout`; writes that are not idempotent (incr, append, add, cas) are retried only when they certainly never reached a server',
  ),
  timeout: integer(
    60_000,
    { min: 1, max: MAX_TTL_MS },
    'ms',
    'cache',
    'default TTL for `store()` when its timeout is missing or ≤ 0',
  ),
  failures: clientOption(
    'failures',
    'consecutive failures after which a server is ejected from the ring (its keys move to the others)',
  ),
  retry: clientOption(
    'retryMs',
    'how long an ejected server stays out before it is probed; it rejoins when it answers',
  ),
  idle: clientOption('idleTimeoutMs', 'an idle connection is closed after this; 0 keeps connections open'),
  request_timeout: clientOption(
    'requestTimeoutMs',
    "(ours) every call settles within this (plus timer lateness) from the moment it is made, retries included; then it rejects with `TimeoutError`. A caller's timeout is not counted against the server: a server fails only when a request it was sent stays unanswered this long while our event loop was responsive, or when it refuses/resets connections",
  ),
  max_pending: clientOption(
    'maxPending',
    '(ours) most calls pending at once in the client (a `retrieveMany` counts one per key). Past it a call rejects at once with `OverloadedError` (code `OVERLOADED`, nothing sent) instead of queueing behind work that cannot finish within `request_timeout`. The default is what this client completes in ~0.2–0.35 s on the 2-core VM of the benchmark (16,384 gets issued amid a 150,000-call burst all answered within 0.72 s of the burst); on a VM twice as slow, a burst like that answers most of them and the rest reach their deadline as `TimeoutError`, with no server blamed',
  ),
  failover_ttl: clientOption(
    'failoverTtlMs',
    '(ours) while a server is ejected, values written to the substitute that takes its keys live at most this long (rounded up to whole seconds; a TTL of 0 is capped too), so they cannot be served again at its next outage. See "Failover and consistency"',
  ),
  outage_record_size: clientOption(
    'outageRecordSize',
    '(ours) most keys recorded per ejected server: the keys this client changes while their home server is out are deleted on it before it rejoins, so it serves none of its older values. Past this many the record overflows and the server is flushed (`flush_all`) before it rejoins. Measured: 60–120 bytes per key, the key included (100,000 keys ≈ 7–8 MB, deleted in 0.22–0.25 s on an idle 2-core machine). See "Failover and consistency"',
  ),
  auto_discovery: {
    type: 'enum',
    values: ['none', 'elasticache', 'elasticache_legacy', 'dns'] as const,
    default: 'none',
    users: 'cache and lock',
    meaning:
      '(ours) discover the servers instead of listing them; the `connection(s)` are then where to ask: `elasticache` — ElastiCache / Memorystore configuration endpoints (`config get cluster`); `elasticache_legacy` — ElastiCache engines before 1.4.14 (the item `AmazonElastiCache:cluster`); `dns` — every address each host resolves to (a Kubernetes headless service), at the configured port. See "Clusters that change"',
  } satisfies EnumOption<'none' | 'elasticache' | 'elasticache_legacy' | 'dns'>,
  discovery_interval: clientOption(
    'discoveryIntervalMs',
    '(ours) how often `auto_discovery`, or a `connection.discovery_key` through the discovery references, is asked again for the server list; a change is applied while requests run (see "Clusters that change")',
  ),
  discovery_max_servers: clientOption(
    'discoveryMaxServers',
    "(ours) most servers a discovered list (`auto_discovery`, `connection.discovery_key`) may hold; a longer list is not applied, the last good one stays and the client's `discoveryStatus.lastError` says why. The default is 4× the 60 nodes of an ElastiCache Memcached cluster; applying 256 nodes stalls the event loop ~0.2–0.3 s and 5,000 for 1.5 s or more (a socket per node, one ring), measured on a 2-core VM",
  ),
  key_prefix: {
    type: 'string',
    default: '',
    users: 'cache and lock',
    meaning: '(ours) prepended to every key',
  } satisfies StringOption,
  compression_threshold: integer(
    0,
    { min: 0, max: MS_MAX },
    'bytes',
    'cache',
    '(ours) values whose encoding is at least this many bytes are deflate-compressed; 0 disables',
  ),
  near_cache_ttl: integer(
    0,
    { min: 0, max: MAX_TTL_MS },
    'ms',
    'cache',
    '(ours) keep retrieved values in process for this long (at most `max_size` entries); 0 disables. Values are copied in and out, so changing a Buffer you stored or got back never changes what later reads return',
  ),
  lease_timeout: integer(
    10_000,
    { min: 1000, max: MAX_TTL_MS },
    'ms',
    'cache',
    "(ours) the `getOrStore` loader's deadline: past it the loader's `AbortSignal` fires, its caller rejects with `LoaderTimeoutError` and the lease is released; every `getOrStore` caller settles within ⌈lease_timeout / 1 s⌉ + 1 s + lease_timeout + 3 × `request_timeout` (24 s with the defaults)",
  ),
  stale_ttl: integer(
    30_000,
    { min: 1000, max: MAX_TTL_MS },
    'ms',
    'cache',
    '(ours) how long `invalidate()` keeps serving the old value while one caller reloads it (its default `staleMs`); see "Hot keys"',
  ),
  refresh_ahead: integer(
    0,
    { min: 0, max: MAX_TTL_MS },
    'ms',
    'cache',
    '(ours) `getOrStore` refreshes a value in the background when its remaining TTL drops below this (one caller across all processes); 0 disables; a call\'s `refreshAhead` wins. See "Hot keys"',
  ),
  distribution: {
    type: 'enum',
    values: DISTRIBUTIONS,
    default: DISTRIBUTIONS[0],
    users: 'cache and lock',
    meaning:
      '(ours) key → server mapping: `ketama` (libmemcached weighted ketama, as pylibmc and the `memcached` npm package) or `rendezvous` (pymemcache `HashClient`, as pip-services4-python)',
  } satisfies EnumOption<Distribution>,
  protocol: {
    type: 'enum',
    values: WIRE_PROTOCOLS,
    default: WIRE_PROTOCOLS[0]!,
    users: 'cache and lock',
    meaning:
      '(ours) `meta`: memcached ≥ 1.6 directly. `text`: the classic text protocol, behind a proxy (twemproxy, mcrouter) that does not forward meta commands; the connections are then interchangeable proxies (no hashing: the first live one takes every key, the next ones are for failover), `distribution` is ignored and `invalidate`, `refresh_ahead`, stats and flush are refused. See "Behind a proxy"',
  } satisfies EnumOption<WireProtocol>,
  tls_reject_unauthorized: {
    type: 'boolean',
    default: true,
    users: 'cache and lock',
    meaning: '(ours) refuse servers whose certificate does not verify',
  } satisfies BooleanOption,
  retry_timeout: integer(
    100,
    { min: 1, max: MS_MAX },
    'ms',
    'lock',
    'pause between attempts in `acquireLock` (a plain `retry_timeout` key is accepted too)',
  ),
} as const);

export type ComponentOptionName = keyof typeof COMPONENT_OPTIONS;

type ValueOf<S> =
  S extends EnumOption<infer T>
    ? T
    : S extends { default: infer D }
      ? D extends number
        ? number
        : D extends boolean
          ? boolean
          : string
      : never;

/** Reads and validates `options.<name>` (or `fallbackKey`'s value when that is set instead). */
export function readOption<N extends ComponentOptionName>(
  config: ConfigParams | null | undefined,
  name: N,
  fallbackDefault?: ValueOf<(typeof COMPONENT_OPTIONS)[N]>,
): ValueOf<(typeof COMPONENT_OPTIONS)[N]> {
  const spec: OptionSpec = COMPONENT_OPTIONS[name];
  const key = `options.${name}`;
  const fallback = (fallbackDefault ?? spec.default) as never;
  switch (spec.type) {
    case 'integer':
      return readInteger(config, key, fallback, { min: spec.min, max: spec.max }) as never;
    case 'boolean':
      return readBoolean(config, key, fallback) as never;
    case 'enum':
      return readEnum(config, key, spec.values, fallback) as never;
    case 'string':
      return readString(config, key, fallback) as never;
  }
}

/** The client's numeric options, by client option name. */
export type ClientNumbers = { -readonly [K in keyof typeof CLIENT_OPTIONS]: number };

/**
 * Every row of COMPONENT_OPTIONS that is a client option, read and validated, under its client
 * name: the one mapping from `options.*` to `MemcachedClientOptions`, so a new client option is a
 * row of each table and nothing else.
 */
export function readClientOptions(config: ConfigParams | null): ClientNumbers {
  const read: Partial<ClientNumbers> = {};
  for (const [name, spec] of Object.entries(COMPONENT_OPTIONS) as Array<[ComponentOptionName, OptionSpec]>) {
    if (spec.client !== undefined) read[spec.client] = readOption(config, name) as number;
  }
  return read as ClientNumbers;
}
