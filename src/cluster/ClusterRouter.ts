/**
 * Routes keys to the live servers of a cluster. Owns the server list, a `ServerHealth` and a
 * selector factory (ketama by default); rebuilds the selector whenever a server is ejected or
 * rejoins, as libmemcached rebuilds its continuum from the live servers when auto-eject is on.
 *
 * When every server is dead, it routes over all of them rather than failing, so real requests
 * double as probes and the first success brings a server back. Pure: no sockets, no timers; the
 * clock is injected.
 */

import { ketamaSelector } from './KetamaRing.js';
import { Listeners } from './Listeners.js';
import { ServerHealth } from './ServerHealth.js';
import type { SelectorFactory, ServerSelector, ServerSpec } from './ServerSelector.js';

export interface ClusterRouterOptions {
  servers: readonly ServerSpec[];
  /** Consecutive failures that eject a server (the `failures` option). */
  failures: number;
  /** How long an ejected server stays out before it may be probed (the `retry` option), ms. */
  retryMs: number;
  /** Clock in ms; `Date.now` by default. */
  now?: () => number;
  /** Builds the selector over a set of servers; default `ketamaSelector` (libmemcached weighted ketama). */
  selector?: SelectorFactory;
  /** Called after every membership change (same as registering with `onChange`). */
  onChange?: ClusterChangeListener;
}

export interface ClusterChange {
  readonly type: 'eject' | 'rejoin';
  /** The server that was ejected or came back. */
  readonly id: string;
  /** The servers keys are routed over from now on. */
  readonly routing: readonly string[];
  /** True when no server is alive and routing falls back to all servers. */
  readonly allDead: boolean;
}

export type ClusterChangeListener = (change: ClusterChange) => void;

export class ClusterRouter {
  readonly health: ServerHealth;
  private readonly factory: SelectorFactory;
  private members: readonly ServerSpec[] = [];
  private ids: readonly string[] = [];
  private full!: ServerSelector;
  private selector!: ServerSelector;
  private single: string | undefined;
  private known: ReadonlySet<string> = new Set();
  /**
   * True while some servers, not all, are out of the ring: the keys of those go to substitutes.
   * A plain field: the hot path of every write reads it.
   */
  failingOver = false;
  private readonly listeners = new Listeners<ClusterChange>();
  private readonly failingListeners = new Listeners<void>();

  constructor(options: ClusterRouterOptions) {
    this.health = new ServerHealth({
      failures: options.failures,
      retryMs: options.retryMs,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.factory = options.selector ?? ketamaSelector;
    this.setServers(options.servers);
    if (options.onChange) this.listeners.add(options.onChange);
  }

  /** Every configured server id, in configuration order. */
  get serverIds(): readonly string[] {
    return this.ids;
  }

  get servers(): readonly ServerSpec[] {
    return this.members;
  }

  /**
   * Replaces the membership: the new rings are built aside and swapped in one step. Servers kept
   * (same id) keep their health; removed ones are forgotten. An empty list (a discovered
   * cluster before its first discovery) routes nowhere: `pick` answers undefined.
   */
  setServers(servers: readonly ServerSpec[]): void {
    const ids = servers.map((s) => s.id);
    const known = new Set(ids);
    if (known.size !== ids.length) throw new RangeError('duplicate server ids');
    const full = this.factory(servers);
    for (const id of this.ids) if (!known.has(id)) this.health.forget(id);
    this.members = servers.slice();
    this.ids = ids;
    this.known = known;
    this.full = full;
    this.single = ids.length === 1 ? ids[0] : undefined;
    this.routeOverLive();
  }

  /** The server for `key` (raw UTF-8 bytes, after any prefix, before base64); undefined with no servers. */
  pick(key: Uint8Array): string | undefined {
    if (this.single !== undefined) return this.single;
    return this.selector.pick(key);
  }

  /**
   * The server for `key` by the full list, alive or not: where the key lives when every server is
   * up. It differs from `pick` exactly for the keys of ejected servers (while `failingOver`).
   */
  home(key: Uint8Array): string | undefined {
    if (this.single !== undefined) return this.single;
    return this.full.pick(key);
  }

  /** The servers keys are currently routed over (all of them when every server is dead). */
  get routing(): readonly string[] {
    return this.selector.ids;
  }

  /**
   * True when there are servers and the latest outcome of each one was a failure, whether or not
   * it was ejected yet (a refused connect, a reset, a request unanswered): nothing works now.
   */
  get allFailing(): boolean {
    return this.members.length > 0 && this.health.failing === this.members.length;
  }

  isAlive(id: string): boolean {
    return this.health.isAlive(id);
  }

  /**
   * A request to `id` failed at the transport level. Returns true when this failure ejected the
   * server (the ring is rebuilt and listeners are told before this returns).
   */
  reportFailure(id: string): boolean {
    if (!this.known.has(id)) return false;
    const wasAllFailing = this.allFailing;
    const ejected = this.health.recordFailure(id);
    if (ejected) this.rebuild('eject', id);
    if (!wasAllFailing && this.allFailing) this.failingListeners.emit();
    return ejected;
  }

  /** A request to `id` succeeded. Returns true when this brought the server back. */
  reportSuccess(id: string): boolean {
    if (!this.known.has(id)) return false;
    if (!this.health.recordSuccess(id)) return false;
    this.rebuild('rejoin', id);
    return true;
  }

  /** Dead servers whose retry time has come; the caller probes them and reports the outcome. */
  dueForProbe(): string[] {
    return this.health.dueForProbe();
  }

  /** Hands the probe of `id` to one caller per retry window (see `ServerHealth.claimProbe`). */
  claimProbe(id: string): boolean {
    return this.health.claimProbe(id);
  }

  /** Registers a listener told each time the servers become all failing (see `allFailing`); returns its remover. */
  onAllFailing(listener: () => void): () => void {
    return this.failingListeners.add(listener);
  }

  /** Registers a membership listener; returns a function that removes it. */
  onChange(listener: ClusterChangeListener): () => void {
    return this.listeners.add(listener);
  }

  /** Routes over the live servers (all of them when none is alive); true when none is. */
  private routeOverLive(): boolean {
    const live = this.members.filter((s) => this.health.isAlive(s.id));
    const allDead = live.length === 0;
    this.selector = allDead || live.length === this.members.length ? this.full : this.factory(live);
    this.failingOver = this.selector !== this.full;
    return allDead;
  }

  private rebuild(type: ClusterChange['type'], id: string): void {
    const allDead = this.routeOverLive();
    const change: ClusterChange = { type, id, routing: this.selector.ids, allDead };
    this.listeners.emit(change);
  }
}
