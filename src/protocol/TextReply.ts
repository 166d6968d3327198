/**
 * The replies of the classic text protocol. Numbers, not strings, so the hot path compares small
 * integers. A reply carries no opaque and (apart from VALUE lines) no key: it belongs to a
 * request only by its position in the stream.
 */
export const TextStatus = {
  /** `VALUE …` blocks up to `END` — the one reply of a get/gets (none: every key missed). */
  Values: 1,
  /** `STORED`. */
  Stored: 2,
  /** `NOT_STORED` — add/replace/append/prepend condition failed. */
  NotStored: 3,
  /** `EXISTS` — cas: the item changed since it was read. */
  Exists: 4,
  /** `NOT_FOUND` — cas/delete/incr/decr/touch on a missing item. */
  NotFound: 5,
  /** `DELETED`. */
  Deleted: 6,
  /** `TOUCHED`. */
  Touched: 7,
  /** `<digits>` — the new value of an incr/decr. */
  Number: 8,
  /** `VERSION <text>`. */
  Version: 9,
  /** `OK` (flush_all, verbosity). */
  Ok: 10,
  /** `ERROR` — the command was not recognised. */
  Error: 20,
  /** `CLIENT_ERROR <message>`. */
  ClientError: 21,
  /** `SERVER_ERROR <message>` (twemproxy also reports a failed backend this way). */
  ServerError: 22,
} as const;
export type TextStatus = (typeof TextStatus)[keyof typeof TextStatus];

export function isTextError(status: TextStatus): boolean {
  return status >= TextStatus.Error;
}

/** One `VALUE <key> <flags> <bytes> [<cas>]` block of a get reply. Fixed shape. */
export class TextValue {
  /** The data block; null when it was skipped as larger than the reader's limit. */
  value: Buffer | null = null;
  /** Size of a skipped data block, -1 otherwise. */
  oversizeBytes = -1;

  constructor(
    /** The key as echoed by the server (printable ASCII, so latin1 is exact). */
    readonly key: string,
    readonly clientFlags: number,
    /** The CAS unique as decimal text (`gets`), '' for `get`. */
    readonly cas: string,
  ) {}
}

/** One reply: the answer to exactly one request. Fixed shape (no optional properties). */
export class TextReply {
  /** Values: the blocks in the order received (hits only); null for other statuses. */
  values: TextValue[] | null = null;
  /** Number: the counter's new value (up to 2^64 − 1); -1n otherwise. */
  number = -1n;
  /** The rest of the line for VERSION and the error statuses. */
  text = '';

  constructor(readonly status: TextStatus) {}
}
