// The errors a pipeline gives, one home each: a request failed by its reply, a stream that lost
// its framing, a server that refused the handshake. Each names the server (and the key, when the
// request has one).

import {
  AuthenticationError,
  type MemcachedCacheError,
  ProtocolError,
  ServerError,
  type UnsupportedServerError,
  ValueTooLargeError,
} from '../component/errors.js';
import type { MetaResponse } from '../protocol/MetaResponse.js';
import { errorWord, RequestKind } from '../protocol/ReplyCollector.js';
import { noMetaProtocol } from './metaProbe.js';
import type { Request } from './Request.js';

/** The error for a request that failed alone: an error line, or a value too large to read. */
export function replyFailure(serverId: string, request: Request, reply: MetaResponse): MemcachedCacheError {
  if (reply.oversizeBytes >= 0) {
    const key =
      request.keys !== null ? (request.keys[reply.opaque - request.opaque] ?? request.key) : request.key;
    return new ValueTooLargeError(
      `The value stored under the key is ${reply.oversizeBytes} bytes, larger than this client reads (max_value); it was skipped`,
      { server: serverId, key, details: { size: reply.oversizeBytes } },
    );
  }
  const word = errorWord(reply.status);
  return new ServerError(`Server ${serverId} answered ${word}${reply.text ? `: ${reply.text}` : ''}`, {
    server: serverId,
    key: request.key,
    details: { reply: word },
  });
}

export function pipelineProtocolError(serverId: string, reason: string): ProtocolError {
  return new ProtocolError(`Protocol error with ${serverId}: ${reason}`, { server: serverId });
}

/** A reply that did not fit its request (of `kind`): the stream lost its framing. */
export function desyncError(serverId: string, kind: RequestKind): ProtocolError {
  return pipelineProtocolError(serverId, DESYNC_REASON[kind] ?? UNEXPECTED_REPLY);
}

/** An error line after which the stream may carry a second reply for the same request. */
export function outOfStepError(serverId: string, reply: MetaResponse): ProtocolError {
  return pipelineProtocolError(
    serverId,
    `the server answered ${errorWord(reply.status)}; the connection is replaced to stay in step`,
  );
}

/** The server turned the connection away before the handshake finished (e.g. too many connections). */
export function refusedConnection(serverId: string, reply: MetaResponse): ServerError {
  const reason = reply.text || errorWord(reply.status);
  return new ServerError(`Server ${serverId} refused the connection: ${reason}`, {
    server: serverId,
    details: { reply: errorWord(reply.status), refused: true },
  });
}

export function authRefused(serverId: string): AuthenticationError {
  return new AuthenticationError(`Server ${serverId} refused the credentials`, { server: serverId });
}

/** The handshake's `mn` got an error line: the server does not speak the meta protocol. */
export function noMetaReply(
  serverId: string,
  serverVersion: string,
  reply: MetaResponse,
): UnsupportedServerError {
  const answer = reply.text ? `${errorWord(reply.status)} ${reply.text}` : errorWord(reply.status);
  return noMetaProtocol(serverId, serverVersion, `answered \`mn\` with ${JSON.stringify(answer)}`);
}

/** Why a reply that did not fit its request broke the stream, by the request's kind. */
const DESYNC_REASON: Partial<Record<RequestKind, string>> = {
  [RequestKind.Batch]: 'a batched reply did not match any request in the batch',
  [RequestKind.Meta]: 'a reply carried the wrong opaque token (response desync)',
  [RequestKind.TextGet]: 'a get reply did not fit the keys asked (response desync)',
};
const UNEXPECTED_REPLY = 'an unexpected reply was received (response desync)';
