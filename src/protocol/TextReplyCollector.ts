import { type MetaResponse, metaResponse } from './MetaResponse.js';
import { type ReplyTarget, RequestKind, Step } from './ReplyCollector.js';
import { ResponseStatus } from './ResponseStatus.js';
import { type TextReply, TextStatus, type TextValue } from './TextReply.js';

/**
 * Feeds one classic text-protocol reply to the request at the head of the queue. A text reply
 * carries no opaque: it belongs to the head by position alone, so the only framing checks left are
 * its shape (VALUE blocks only for a get, a single line for anything else) and, for a multi-key
 * get, that every VALUE names one of the keys asked. Pure, like `collectReply`.
 *
 * A failure is reported in the meta reply shape the pipeline already turns into errors
 * (`failureOf`): the error statuses share their numbers, and an oversize value carries the opaque
 * offset of its key.
 */
export function collectTextReply(target: ReplyTarget, reply: TextReply): Step {
  const status = reply.status;
  if (status >= TextStatus.Error) return errorReply(target, reply);
  switch (target.kind) {
    case RequestKind.TextGet:
      if (status !== TextStatus.Values) return Step.Desync;
      return target.keys === null ? singleValue(target, reply.values!) : manyValues(target, reply.values!);
    case RequestKind.Text:
      if (status === TextStatus.Values || status === TextStatus.Version) return Step.Desync;
      target.result = reply;
      return Step.Done;
    case RequestKind.Version:
      if (status !== TextStatus.Version) return Step.Desync;
      target.result = reply.text;
      return Step.Done;
    case RequestKind.Auth:
      if (status !== TextStatus.Stored) return Step.Desync;
      target.result = null;
      return Step.Done;
    default:
      return Step.Desync;
  }
}

/** A one-key get: its value, or null for a miss. */
function singleValue(target: ReplyTarget, values: TextValue[]): Step {
  if (values.length > 1) return Step.Desync;
  const value = values[0] ?? null;
  if (value !== null && value.key !== target.key) return Step.Desync;
  if (value !== null && value.oversizeBytes >= 0) {
    target.result = oversize(value, target.opaque);
    return Step.Failed;
  }
  target.result = value;
  return Step.Done;
}

/** A multi-key get: each VALUE placed at its key's offset; one the request did not ask for is a desync. */
function manyValues(target: ReplyTarget, values: TextValue[]): Step {
  const keys = target.keys!;
  const collected = target.collected as Array<TextValue | undefined>;
  let failed: TextValue | null = null;
  let failedAt = 0;
  for (const value of values) {
    const offset = offsetOf(keys, value.key);
    if (offset === -1) return Step.Desync;
    collected[offset] = value;
    if (failed === null && value.oversizeBytes >= 0) {
      failed = value;
      failedAt = offset;
    }
  }
  if (failed !== null) {
    target.result = oversize(failed, target.opaque + failedAt);
    return Step.Failed;
  }
  target.result = collected;
  return Step.Done;
}

/** Linear, and only for the keys of one get line (a server's share, at most thousands). */
function offsetOf(keys: readonly string[], key: string): number {
  for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
  return -1;
}

function oversize(value: TextValue, opaque: number): MetaResponse {
  const failure = metaResponse(ResponseStatus.Value);
  failure.oversizeBytes = value.oversizeBytes;
  failure.opaque = opaque;
  return failure;
}

/**
 * ERROR/CLIENT_ERROR/SERVER_ERROR in place of a reply. SERVER_ERROR fails the request alone (the
 * server — or twemproxy, for a failed backend — consumed all of it), as does CLIENT_ERROR for a
 * single-line command; after CLIENT_ERROR for a storage command, or ERROR, the server may read
 * what followed as a new command: the stream is out of step. During the handshake an error line
 * means we were turned away (or, for the auth `set`, refused).
 */
function errorReply(target: ReplyTarget, reply: TextReply): Step {
  const failure = metaResponse(TEXT_ERROR_STATUS[reply.status as TextError]);
  failure.text = reply.text;
  target.result = failure;
  if (target.kind === RequestKind.Auth)
    return reply.status === TextStatus.ClientError ? Step.AuthRefused : Step.Refused;
  if (target.kind === RequestKind.Version) return Step.Refused;
  if (reply.status === TextStatus.ServerError) return Step.Failed;
  if (reply.status === TextStatus.ClientError && !target.hasData) return Step.Failed;
  return Step.FailedOutOfStep;
}

type TextError = typeof TextStatus.Error | typeof TextStatus.ClientError | typeof TextStatus.ServerError;
const TEXT_ERROR_STATUS: Readonly<Record<TextError, ResponseStatus>> = {
  [TextStatus.Error]: ResponseStatus.Error,
  [TextStatus.ClientError]: ResponseStatus.ClientError,
  [TextStatus.ServerError]: ResponseStatus.ServerError,
};
