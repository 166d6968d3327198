import type { EncodedKey } from '../protocol/KeyEncoder.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { RequestKind } from '../protocol/ReplyCollector.js';
import {
  type MetaGetFlags,
  metaGet,
  metaGetFlags,
  metaSetHeader,
  type SetMode,
} from '../protocol/RequestEncoder.js';
import { cappedTtl, type WireCas, type WireFlags, type WireTtl } from '../protocol/WireFields.js';
import type { CommandName } from './diagnostics.js';

/**
 * One client call, described: what to send and how to read the reply. The client builds one per
 * call and hands it to an `Operation`, which routes, sends, retries and times it.
 */
export interface Command<T> {
  readonly name: CommandName;
  readonly kind: RequestKind;
  /** The key the call is routed by and errors name; for a batch, its first key. */
  readonly key: EncodedKey | null;
  /** A batch's keys, one opaque token each (getMany); null otherwise. */
  readonly keys: readonly EncodedKey[] | null;
  /** A fixed server (stats, version, flush); otherwise the key decides. */
  readonly server: string | null;
  /**
   * Whether it changes the key (write, remove, touch, counter, invalidate): while the key's home
   * server is out, such a call is recorded against it and its TTL capped (`failover_ttl`).
   */
  readonly mutates: boolean;
  /**
   * The request line(s) for the given first opaque token. `ttlCap`: the longest TTL the call may
   * set (the key goes to a substitute server), else null.
   */
  encode(opaque: number, ttlCap: WireTtl | null): string;
  /** A batch: the same command for some of its keys (a retry re-splits a batch by server). */
  part?(keys: readonly EncodedKey[]): Command<T>;
  /** The `ms` data block, or null. */
  readonly data: Buffer | null;
  /** Safe to send twice: a write that may not be repeated is retried only if it was never sent. */
  readonly idempotent: boolean;
  /** Turns the collected reply into the caller's result. */
  decode(reply: any): T;
}

/** The item flags every read asks for: value, client flags, CAS. One home for the `mg` flag set. */
export const ITEM_FLAGS = metaGetFlags({ item: true });
/** The same and the remaining TTL, for the reads that return it (`getWithTtl`). */
export const ITEM_TTL_FLAGS = metaGetFlags({ item: true, ttl: true });

/**
 * Called when a plain read (not `getOrLease`) of a stale item was handed its win token: memcached
 * gives `W` to the first `mg` of a stale item, whatever asked, and a reader that will not reload
 * must give it back or no one reloads until the stale value expires. The reply has the CAS (`c`),
 * not the TTL: the give-back keeps the item's expiry as it is.
 */
export type StaleWinHandler = (key: EncodedKey, reply: MetaResponse) => void;

/**
 * The hottest commands are small classes rather than object literals with a closure: one
 * allocation per call instead of two, and one shape for V8 (measured on the pipelined-get bench).
 */

/** `mg <key> <flags>`: get, gat, getOrLease. */
export class MetaGetCommand<T> implements Command<T> {
  readonly kind = RequestKind.Meta;
  readonly keys = null;
  readonly server = null;
  readonly data = null;
  readonly idempotent = true;
  readonly mutates: boolean = false;

  constructor(
    readonly name: CommandName,
    readonly key: EncodedKey,
    private readonly flags: MetaGetFlags,
    private readonly transform: (reply: any) => T,
    /** For plain reads: what to do with a stale item's win it was handed (null for getOrLease). */
    private readonly staleWin: StaleWinHandler | null = null,
  ) {}

  encode(opaque: number, _ttlCap: WireTtl | null): string {
    return metaGet(this.key, this.flags, opaque);
  }

  decode(reply: any): T {
    if (this.staleWin !== null && reply.win && reply.stale) this.staleWin(this.key, reply);
    return this.transform(reply);
  }
}

/** `mg <key> v f c T<ttl>`: gat, a read that changes the key's TTL. */
export class MetaGatCommand<T> extends MetaGetCommand<T> {
  override readonly mutates = true;

  constructor(
    key: EncodedKey,
    private readonly ttl: WireTtl,
    transform: (reply: any) => T,
    staleWin: StaleWinHandler,
  ) {
    super('gat', key, metaGetFlags({ item: true, touch: ttl }), transform, staleWin);
  }

  override encode(opaque: number, ttlCap: WireTtl | null): string {
    if (ttlCap === null) return super.encode(opaque, null);
    return metaGet(this.key, metaGetFlags({ item: true, touch: cappedTtl(this.ttl, ttlCap) }), opaque);
  }
}

/** What distinguishes the write commands: mode, name, whether a retry is safe, the result. */
export interface WriteKind<T> {
  readonly name: CommandName;
  readonly mode: SetMode;
  /** Only `set` is: the others' outcome depends on what was there (retried only when unsent). */
  readonly idempotent: boolean;
  readonly decode: (reply: any) => T;
  /** `ms … I` with the CAS: stored either way, but stale when the item changed since the CAS was read. */
  readonly invalidateIfChanged?: boolean;
}

/** `ms <key> <len> …`: set, add, replace, append, prepend, cas, revalidate. */
export class MetaSetCommand<T> implements Command<T> {
  readonly kind = RequestKind.Meta;
  readonly keys = null;
  readonly server = null;
  readonly mutates = true;
  readonly name: CommandName;
  readonly idempotent: boolean;
  readonly decode: (reply: any) => T;

  constructor(
    private readonly write: WriteKind<T>,
    readonly key: EncodedKey,
    readonly data: Buffer,
    private readonly ttl: WireTtl,
    private readonly flags: WireFlags,
    private readonly cas: WireCas | null,
  ) {
    this.name = write.name;
    this.idempotent = write.idempotent;
    this.decode = write.decode;
  }

  encode(opaque: number, ttlCap: WireTtl | null): string {
    const { mode, invalidateIfChanged = false } = this.write;
    return metaSetHeader(
      this.key,
      this.data.length,
      ttlCap === null ? this.ttl : cappedTtl(this.ttl, ttlCap),
      this.flags,
      mode,
      this.cas,
      opaque,
      invalidateIfChanged,
    );
  }
}

// Commands are built by these functions from closures passed in, not as object literals with
// arrow-function members at each call site: a bundler keeping function names (esbuild
// `keepNames`, as tsx runs it) renames every such member on every call (~1 µs per set).

/**
 * A single-key command (the less frequent meta ones, see MetaGetCommand; the text protocol's, with
 * their `kind` and, for a compare-and-delete, an empty data block). Those that change the key
 * (`mutates`) get the TTL cap of a failed-over call in `encode`.
 */
export function keyCommand<T>(
  name: CommandName,
  key: EncodedKey,
  encode: (opaque: number, ttlCap: WireTtl | null) => string,
  decode: (reply: any) => T,
  idempotent: boolean,
  mutates: boolean,
  kind: RequestKind = RequestKind.Meta,
  data: Buffer | null = null,
): Command<T> {
  return {
    name,
    kind,
    key,
    keys: null,
    server: null,
    mutates,
    encode,
    data,
    idempotent,
    decode,
  };
}

/** A command aimed at one server rather than a key (flush, stats, version). */
export function serverCommand<T>(
  name: CommandName,
  kind: RequestKind,
  server: string,
  line: string,
  idempotent: boolean,
  decode: (reply: any) => T,
): Command<T> {
  return {
    name,
    kind,
    key: null,
    keys: null,
    server,
    mutates: false,
    encode: () => line,
    data: null,
    idempotent,
    decode,
  };
}
