import { ConfigError, ConnectionError, MemcachedCacheError } from '../component/errors.js';
import type { ServerEndpoint } from '../transport/ServerEndpoint.js';
import {
  type DiscoveredServers,
  type DiscoverySource,
  fetchServerList,
  type ServerListFetchOptions,
} from './serverListSource.js';

/** What discovery has done so far (for diagnostics and the CLI). */
export interface DiscoveryStatus {
  readonly mode: DiscoverySource;
  /** The last version applied (null before the first, and for DNS). */
  readonly version: number | null;
  /** The endpoint of the last successful discovery. */
  readonly from: string | null;
  /**
   * The error of the last attempt when it failed (or gave a list over `discoveryMaxServers`),
   * else null. The last good list stays applied.
   */
  readonly lastError: MemcachedCacheError | null;
}

/** What discovery needs of the client's server health (the client's ClusterRouter). */
export interface TopologyHealth {
  /** True when the latest outcome of every server of the topology was a failure. */
  readonly allFailing: boolean;
  /** Tells `listener` each time the servers become all failing; returns its remover. */
  onAllFailing(listener: () => void): () => void;
}

/** `maxServers` also rejects a longer list (`discoveryMaxServers`). */
export interface ClusterDiscoveryOptions extends ServerListFetchOptions {
  mode: DiscoverySource;
  /** The configuration endpoints (or, for `dns`, the names to resolve; unused for `discovery`). */
  endpoints: readonly ServerEndpoint[];
  intervalMs: number;
  /** The data servers in use now: for ElastiCache, each also answers `config get cluster`. */
  known: () => readonly ServerEndpoint[];
  /** The health of the servers in use (asked from `start()` on, so it may be built after this). */
  health?: () => TopologyHealth;
  /** Applies a list that passed the checks (newer version, not empty). */
  apply: (found: DiscoveredServers) => void;
}

/**
 * Answers in a row from the configuration endpoints with a version below the applied one that
 * make it a cluster reset (see ClusterDiscovery): one lagging endpoint catches up within a poll
 * or two, so five in a row (five minutes at the default interval) is a cluster that really went
 * back, or a version we should never have trusted.
 */
export const VERSION_REGRESSION_CONFIRMATIONS = 5;

/**
 * While every server is failing the cache serves nothing, so the endpoints are asked at least
 * this often (instead of every `intervalMs`): one small request a second to the configuration
 * endpoint, only during a total outage, finds a fixed configuration within a second.
 */
export const ALL_FAILING_INTERVAL_MS = 1000;

/**
 * Polls the cluster's membership every `intervalMs`.
 *
 * Which list is applied: not an empty one, and not one with more than `maxServers` servers (that
 * is an error, kept in `status.lastError`; the last good list stays). A versioned list is applied
 * when its version is higher than the last applied one. A lower version is ignored (a stale
 * endpoint cannot roll the cluster back), except that no single reply may pin the version for
 * ever (a reply with version 999999999999999 would make every honest later one look stale): a
 * lower version from the configured configuration endpoints is applied as a cluster reset once
 * they have answered below the applied version VERSION_REGRESSION_CONFIRMATIONS times in a row
 * (an answer at or above it restarts the count), or at once when every server of the topology
 * is failing (the latest outcome of each was a failure, ejected or not: the list in use is not
 * working, so little is lost by believing the endpoint; were it stale, the next higher version
 * is applied at the next poll). Known nodes' answers never count as a reset: a node may lag.
 *
 * Who is asked: each poll asks the configuration endpoints in turn, starting with the last one
 * that answered, and only when none answers one known node (each ElastiCache node answers
 * `config get cluster`; a different one each poll), so one dead endpoint does not stop
 * discovery and a long list of dead nodes does not stop the endpoint from being asked. When
 * every server of the topology becomes failing, the endpoints are asked at once, and then every
 * ALL_FAILING_INTERVAL_MS while it stays so, not only at the next interval.
 */
export class ClusterDiscovery {
  private readonly options: ClusterDiscoveryOptions;
  private version: number | null = null;
  private from: string | null = null;
  private lastError: MemcachedCacheError | null = null;
  /** The configuration endpoint asked first: the last one that answered. */
  private preferred = 0;
  /** Which known node is asked when no configuration endpoint answers (one per poll, in turn). */
  private nextNode = 0;
  /** Answers in a row from the configuration endpoints with a version below `version`. */
  private regressions = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The poll in progress: polls never overlap. */
  private running: Promise<void> | null = null;
  /** Poll again as soon as the running one ends (the topology failed while it ran). */
  private again = false;
  private unwatch: (() => void) | null = null;
  private stopped = false;

  constructor(options: ClusterDiscoveryOptions) {
    this.options = options;
  }

  get status(): DiscoveryStatus {
    return { mode: this.options.mode, version: this.version, from: this.from, lastError: this.lastError };
  }

  /**
   * The first discovery: asks each configuration endpoint in turn until one gives a non-empty
   * list within `maxServers`, applies it and starts polling. Rejects when none does, naming
   * every endpoint: with ConfigError when each answered but none gave a usable list, else
   * ConnectionError.
   */
  async start(): Promise<DiscoveredServers> {
    const failures: Array<{ endpoint: string; error: MemcachedCacheError }> = [];
    for (const [index, endpoint] of this.options.endpoints.entries()) {
      try {
        const found = await fetchServerList(this.options.mode, endpoint, this.options);
        if (found.servers.length === 0) throw emptyList(endpoint.id, found.version);
        this.accept(found, true);
        this.preferred = index;
        this.watch();
        this.schedule();
        return found;
      } catch (error) {
        failures.push({ endpoint: endpoint.id, error: asCacheError(error, endpoint.id) });
      }
    }
    const list = failures.map((f) => `${f.endpoint} (${f.error.message})`).join('; ');
    const message = `auto_discovery '${this.options.mode}': no configuration endpoint gave a server list: ${list}`;
    const details = { autoDiscovery: this.options.mode, endpoints: failures.map((f) => f.endpoint) };
    const answeredAll = failures.every((f) => f.error instanceof ConfigError);
    throw answeredAll
      ? new ConfigError(message, { details, cause: failures[0]?.error })
      : new ConnectionError(message, { details, cause: failures[0]?.error });
  }

  /** Starts polling without a first discovery (for `discovery`: the client starts on its configured list). */
  startPolling(): void {
    this.watch();
    if (this.timer === null && this.running === null) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unwatch?.();
    this.unwatch = null;
  }

  /**
   * One poll: the configuration endpoints in turn, then one known node, until one answers. Its
   * answer is the poll's outcome (applied, ignored, or rejected into `lastError`, as a list over
   * `maxServers` is); an endpoint that fails or is no configuration endpoint moves on to the next
   * candidate.
   */
  private async poll(): Promise<void> {
    for (const { endpoint, index } of this.candidates()) {
      let found: DiscoveredServers;
      try {
        if (index < 0) this.nextNode++;
        found = await fetchServerList(this.options.mode, endpoint, this.options);
      } catch (error) {
        if (this.stopped) return;
        this.lastError = asCacheError(error, endpoint.id);
        // A reply over the bound is an answer (refused), not an endpoint to route around.
        if (this.lastError.details?.option === 'discoveryMaxServers') return;
        continue;
      }
      if (this.stopped) return;
      if (index >= 0) this.preferred = index;
      try {
        this.accept(found, index >= 0);
        this.lastError = null;
      } catch (error) {
        this.lastError = asCacheError(error, endpoint.id);
      }
      return;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const { intervalMs, health } = this.options;
    const delay = health?.().allFailing ? Math.min(intervalMs, ALL_FAILING_INTERVAL_MS) : intervalMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, delay);
    // Discovery alone must not keep a process alive.
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped) return;
    this.running = this.poll().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.run();
      } else this.schedule();
    });
  }

  /** Every server of the topology is failing: ask now rather than at the next interval. */
  private pollNow(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.run();
  }

  private watch(): void {
    if (this.unwatch !== null || this.options.health === undefined) return;
    this.unwatch = this.options.health().onAllFailing(() => this.pollNow());
  }

  /**
   * Applies `found` when the rules in the class comment allow it; throws ConfigError for a list
   * over `maxServers`. `fromEndpoint`: the answer came from a configured configuration endpoint
   * (not a known node), so it may count toward a reset.
   */
  private accept(found: DiscoveredServers, fromEndpoint: boolean): void {
    const held = this.version;
    const lower = found.version !== null && held !== null && found.version < held;
    if (fromEndpoint && !lower) this.regressions = 0;
    if (found.servers.length === 0) return; // an empty list is ignored: the last good one stays
    // A node listed twice is one server (setServers refuses duplicates).
    const unique = [...new Map(found.servers.map((server) => [server.id, server])).values()];
    if (unique.length > this.options.maxServers)
      throw tooManyServers(found, unique.length, this.options.maxServers);
    if (found.version !== null && found.version === held) return;
    if (lower) {
      if (!fromEndpoint) return;
      this.regressions++;
      const reset =
        this.regressions >= VERSION_REGRESSION_CONFIRMATIONS || this.options.health?.().allFailing === true;
      if (!reset) return;
    }
    this.regressions = 0;
    this.version = found.version;
    this.from = found.from;
    this.options.apply({ ...found, servers: unique });
  }

  /** This poll's candidates: the configuration endpoints from the preferred one, then one known node (index -1). */
  private candidates(): Array<{ endpoint: ServerEndpoint; index: number }> {
    const { endpoints, mode } = this.options;
    // A caller's discoverServers ignores the endpoint: one call per poll.
    if (mode === 'discovery') return [{ endpoint: endpoints[0]!, index: 0 }];
    const list = endpoints.map((_, i) => {
      const index = (this.preferred + i) % endpoints.length;
      return { endpoint: endpoints[index]!, index };
    });
    if (mode === 'dns') return list;
    const ids = new Set(endpoints.map((e) => e.id));
    const nodes = this.options.known().filter((server) => !ids.has(server.id));
    if (nodes.length > 0) list.push({ endpoint: nodes[this.nextNode % nodes.length]!, index: -1 });
    return list;
  }
}

function tooManyServers(found: DiscoveredServers, count: number, max: number): ConfigError {
  const which = found.version === null ? '' : ` (version ${found.version})`;
  return new ConfigError(
    `${found.from} gave ${count} servers${which}, more than discoveryMaxServers (options.discovery_max_servers) ${max}: the list was not applied`,
    {
      server: found.from,
      details: {
        servers: count,
        max,
        version: found.version,
        option: 'discoveryMaxServers',
        configKey: 'options.discovery_max_servers',
      },
    },
  );
}

function emptyList(endpoint: string, version: number | null): ConfigError {
  const which = version === null ? '' : ` (version ${version})`;
  return new ConfigError(`${endpoint} gave an empty server list${which}`, { server: endpoint });
}

function asCacheError(error: unknown, endpoint: string): MemcachedCacheError {
  if (error instanceof MemcachedCacheError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${endpoint}: ${reason}`, { server: endpoint, cause: error });
}
