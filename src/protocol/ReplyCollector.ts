import type { MetaResponse } from './MetaResponse.js';
import { ResponseStatus } from './ResponseStatus.js';
import type { TextValue } from './TextReply.js';

/** What shape of reply a request waits for. */
export const RequestKind = {
  /** One meta command (mg/ms/md/ma/me), one reply carrying our opaque. */
  Meta: 0,
  /** Quiet `mg`s ended by `mn`: replies for hits only, then `MN`. */
  Batch: 1,
  /** `stats`: STAT lines until END. */
  Stats: 2,
  /** `version`: VERSION. */
  Version: 3,
  /** `flush_all`: OK. */
  Flush: 4,
  /** ASCII auth `set`: STORED. Part of the handshake. */
  Auth: 5,
  /** `mn` on its own: MN. Part of the handshake (proves meta support). */
  Noop: 6,
  /** A classic text `get`/`gets`: VALUE blocks up to END, one reply (see TextReplyCollector). */
  TextGet: 7,
  /** Any other classic text command: one reply line (STORED, DELETED, a number…). */
  Text: 8,
} as const;
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind];

/** What one reply did to the request at the head of the queue. */
export const Step = {
  /** Consumed; the request waits for more (a batch hit, a STAT line). */
  More: 0,
  /** The request is complete; its result is in `target.result`. */
  Done: 1,
  /** The request failed and the stream is still in step: SERVER_ERROR, or a value too large to read. */
  Failed: 2,
  /** The request failed and the stream can no longer be trusted: replace the connection. */
  FailedOutOfStep: 3,
  /** The reply does not belong to this request: the stream lost its framing. */
  Desync: 4,
  /** The server turned the connection away before the handshake finished (e.g. `ERROR Too many open connections`). */
  Refused: 5,
  /** The server refused the credentials. */
  AuthRefused: 6,
  /** The server does not speak the meta protocol. */
  Unsupported: 7,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

/** The part of a request a collector reads and fills. */
export interface ReplyTarget {
  readonly kind: RequestKind;
  /** First opaque token (-1 for commands without one). */
  readonly opaque: number;
  /** Number of opaque tokens (Batch), or of keys (a multi-key TextGet). */
  readonly count: number;
  /** The key, when the request has one (a text get's VALUE must name it). */
  readonly key: string | undefined;
  /** A multi-key read: the key of each offset (a text reply is matched to them by key). */
  readonly keys: readonly string[] | null;
  /** Whether the request carries a data block (an `ms`): a CLIENT_ERROR then leaves the stream out of step. */
  readonly hasData: boolean;
  /** Batch: replies by opaque offset (TextGet: by key offset); Stats: name → value. */
  collected: Array<MetaResponse | undefined> | Array<TextValue | undefined> | Map<string, string> | null;
  /** Done: the result. Failed: the reply that failed it (for a batch, the oversize one). */
  result: unknown;
}

/**
 * Feeds one reply to the request it belongs to (the head of the queue). Pure: the pipeline turns
 * the step into completion, an error or a replaced connection.
 */
export function collectReply(target: ReplyTarget, response: MetaResponse): Step {
  const status = response.status;
  switch (target.kind) {
    case RequestKind.Meta:
      if (status >= ResponseStatus.Error) return errorReply(target, response);
      if (response.opaque !== target.opaque) return Step.Desync;
      target.result = response;
      return response.oversizeBytes >= 0 ? Step.Failed : Step.Done;
    case RequestKind.Batch: {
      if (status === ResponseStatus.NoOp) return finishBatch(target);
      const offset = response.opaque - target.opaque;
      if (status >= ResponseStatus.Error || offset < 0 || offset >= target.count) return Step.Desync;
      (target.collected as Array<MetaResponse | undefined>)[offset] = response;
      return Step.More;
    }
    case RequestKind.Stats:
      if (status === ResponseStatus.Stat) {
        const text = response.text;
        const space = text.indexOf(' ');
        (target.collected as Map<string, string>).set(
          space === -1 ? text : text.slice(0, space),
          space === -1 ? '' : text.slice(space + 1),
        );
        return Step.More;
      }
      return status === ResponseStatus.End ? done(target, target.collected) : unexpected(target, response);
    case RequestKind.Version:
      return status === ResponseStatus.Version ? done(target, response.text) : unexpected(target, response);
    case RequestKind.Flush:
      return status === ResponseStatus.Ok ? done(target, null) : unexpected(target, response);
    case RequestKind.Auth:
      if (status === ResponseStatus.Stored) return done(target, null);
      target.result = response;
      return status === ResponseStatus.ClientError ? Step.AuthRefused : Step.Refused;
    case RequestKind.Noop:
      if (status === ResponseStatus.NoOp) return done(target, null);
      // It follows a `version` that was answered, so the server accepted us: any other answer to
      // `mn` (mcrouter's error line, an old memcached's ERROR) means no meta protocol.
      target.result = response;
      return Step.Unsupported;
    case RequestKind.TextGet:
    case RequestKind.Text:
      return Step.Desync;
  }
}

function done(target: ReplyTarget, result: unknown): Step {
  target.result = result;
  return Step.Done;
}

function finishBatch(target: ReplyTarget): Step {
  const replies = target.collected as Array<MetaResponse | undefined>;
  for (let i = 0; i < replies.length; i++) {
    const reply = replies[i];
    if (reply !== undefined && reply.oversizeBytes >= 0) {
      target.result = reply;
      return Step.Failed;
    }
  }
  target.result = replies;
  return Step.Done;
}

/** SERVER_ERROR/CLIENT_ERROR/ERROR in place of a command's reply. */
function errorReply(target: ReplyTarget, response: MetaResponse): Step {
  target.result = response;
  // The server consumed the whole request on SERVER_ERROR (it swallows the data block), and a
  // single-line request (mg/md/ma) gets exactly one reply line even on CLIENT_ERROR: the stream is
  // still in step, so only this request fails. After CLIENT_ERROR/ERROR for an `ms` the server
  // reads the data block as a command and answers again: the framing is lost.
  if (response.status === ResponseStatus.ServerError) return Step.Failed;
  if (response.status === ResponseStatus.ClientError && target.kind === RequestKind.Meta && !target.hasData)
    return Step.Failed;
  return Step.FailedOutOfStep;
}

/** A reply of the wrong kind: SERVER_ERROR fails the request alone; anything else is a desync. */
function unexpected(target: ReplyTarget, response: MetaResponse): Step {
  if (response.status === ResponseStatus.ServerError) {
    target.result = response;
    return Step.Failed;
  }
  // Before the handshake is done, an error line means the server turned us away.
  if (response.status >= ResponseStatus.Error && target.kind === RequestKind.Version) {
    target.result = response;
    return Step.Refused;
  }
  return Step.Desync;
}

/** `SERVER_ERROR`, `CLIENT_ERROR` or `ERROR`, as the server wrote it. */
export function errorWord(status: ResponseStatus): string {
  return status === ResponseStatus.ServerError
    ? 'SERVER_ERROR'
    : status === ResponseStatus.ClientError
      ? 'CLIENT_ERROR'
      : 'ERROR';
}
