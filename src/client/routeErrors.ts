import { ConnectionError, InvalidStateError } from '../component/errors.js';

/**
 * A call routed to server `id` that has no pool: no server yet (`id` is '': a discovered cluster
 * before connect()), or one call aimed at a server (stats, flush) or a batch's share for one that
 * left the server list meanwhile. Nothing was sent.
 */
export function noPoolError(id: string): ConnectionError {
  if (id === '')
    return new ConnectionError(
      'No server to send to: the server list is empty until the first discovery (connect())',
      { details: { requestSent: false } },
    );
  return new ConnectionError(`Server ${id} is no longer in the server list`, {
    server: id,
    details: { requestSent: false },
  });
}

/** A `failover: false` call whose key's server is ejected: nothing is sent. */
export function notFailingOver(id: string, key: string | undefined): ConnectionError {
  return new ConnectionError(
    `Server ${id} is ejected and this key does not fail over (failover: false): nothing was sent`,
    { server: id, key, details: { requestSent: false } },
  );
}

/** A call that reached its (next) send after the client was closed. */
export function closedError(key: string | undefined): InvalidStateError {
  return new InvalidStateError('The memcached client was closed', { key });
}
