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
import type { WireCas, WireFlags, WireTtl } from '../protocol/WireFields.js';
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
  /** The request line(s) for the given first opaque token. */
  encode(opaque: number): string;
  /** The `ms` data block, or null. */
  readonly data: Buffer | null;
  /** Safe to send twice: a write that may not be repeated is retried only if it was never sent. */
  readonly idempotent: boolean;
  /** Turns the collected reply into the caller's result. */
  decode(reply: any): T;
}

/**
 * The item flags every read asks for: value, client flags, CAS, remaining TTL. One home for the
 * `mg` flag set. (The TTL lets a plain read that was handed a stale item's win give it back.)
 */
export const ITEM_FLAGS = metaGetFlags({ item: true });

/**
 * Called when a plain read (not `getOrLease`) of a stale item was handed its win token: memcached
 * gives `W` to the first `mg` of a stale item, whatever asked, and a reader that will not reload
 * must give it back or no one reloads until the stale value expires.
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

  constructor(
    readonly name: CommandName,
    readonly key: EncodedKey,
    private readonly flags: MetaGetFlags,
    private readonly transform: (reply: any) => T,
    /** For plain reads: what to do with a stale item's win it was handed (null for getOrLease). */
    private readonly staleWin: StaleWinHandler | null = null,
  ) {}

  encode(opaque: number): string {
    return metaGet(this.key, this.flags, opaque);
  }

  decode(reply: any): T {
    if (this.staleWin !== null && reply.win && reply.stale) this.staleWin(this.key, reply);
    return this.transform(reply);
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

  encode(opaque: number): string {
    const { mode, invalidateIfChanged = false } = this.write;
    return metaSetHeader(
      this.key,
      this.data.length,
      this.ttl,
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

/** A single-key meta command without a data block (the less frequent ones; see MetaGetCommand). */
export function keyCommand<T>(
  name: CommandName,
  key: EncodedKey,
  encode: (opaque: number) => string,
  decode: (reply: any) => T,
  idempotent = true,
): Command<T> {
  return {
    name,
    kind: RequestKind.Meta,
    key,
    keys: null,
    server: null,
    encode,
    data: null,
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
  return { name, kind, key: null, keys: null, server, encode: () => line, data: null, idempotent, decode };
}
