import type { EncodedKey } from '../protocol/KeyEncoder.js';
import type { RequestKind } from '../protocol/ReplyCollector.js';
import type { CommandName } from './diagnostics.js';

/**
 * One client call, described: what to send and how to read the reply. The client builds one per
 * call and hands it to an `Operation`, which routes, sends, retries and times it.
 */
export interface Command<T> {
  readonly name: CommandName | 'flush' | 'stats' | 'version';
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

/** The item flags every read asks for: value, client flags, CAS. One home for the `mg` flag set. */
export const ITEM_FLAGS = 'v f c';
