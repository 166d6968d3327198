/** A value read from memcached with its metadata. */
export interface Item {
  /** The stored bytes. */
  value: Buffer;
  /** The 32-bit client flags stored with the value (codecs use them to tag the format). */
  flags: number;
  /** The CAS unique, for `cas()` and conditional `delete()`. Decimal text: it is a uint64. */
  cas: string;
}

/** An item with its remaining lifetime, for tools that show it (`getWithTtl`, the CLI's `get -v`). */
export interface ItemWithTtl extends Item {
  /** Seconds until it expires; null when it never expires. */
  ttl: number | null;
}

/** The reply to a lease-style read used to stop cache stampedes (`getOrLease`). */
export interface LeasedItem {
  /** The value, or null when missing or when only a placeholder exists. */
  item: Item | null;
  /** This caller won the right to (re)compute the value and must store it. */
  win: boolean;
  /** Someone else is computing it: wait and read again. */
  pending: boolean;
  /**
   * The value is stale (invalidated); it is returned while a winner recomputes it. A `win` with
   * an item that is not stale is a refresh-ahead win: the value is current but expires soon.
   */
  stale: boolean;
  /** Remaining TTL in seconds (-1: never expires); null when the key was missing. */
  ttl: number | null;
}
