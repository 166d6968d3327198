/**
 * The first token of every response line the parser understands. Numbers, not strings, so the
 * hot path compares small integers.
 */
export const ResponseStatus = {
  /** `VA <size> <flags>*` — a value follows. */
  Value: 1,
  /** `HD <flags>*` — success without a value. */
  Header: 2,
  /** `EN` — miss (mg). */
  Miss: 3,
  /** `NS` — not stored (add/replace/append condition failed). */
  NotStored: 4,
  /** `EX` — CAS mismatch. */
  Exists: 5,
  /** `NF` — not found (md, ma, ms with CAS). */
  NotFound: 6,
  /** `MN` — the end of a pipelined batch. */
  NoOp: 7,
  /** `ME <key> <k>=<v>*` — meta debug. */
  Debug: 8,
  /** `VERSION <text>`. */
  Version: 9,
  /** `OK` (flush_all). */
  Ok: 10,
  /** `STAT <name> <value>` — one line of a stats reply. */
  Stat: 11,
  /** `END` — the end of a stats reply. */
  End: 12,
  /** `STORED` — the reply to the classic `set` used by ASCII authentication. */
  Stored: 13,
  /** `ERROR` — the server did not recognise the command. */
  Error: 20,
  /** `CLIENT_ERROR <message>`. */
  ClientError: 21,
  /** `SERVER_ERROR <message>`. */
  ServerError: 22,
} as const;

export type ResponseStatus = (typeof ResponseStatus)[keyof typeof ResponseStatus];

export function isErrorStatus(status: ResponseStatus): boolean {
  return status >= ResponseStatus.Error;
}
