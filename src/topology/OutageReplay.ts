import type { EncodedKey } from '../protocol/KeyEncoder.js';
import { RequestKind } from '../protocol/ReplyCollector.js';
import { flushAllCommand, metaDelete, metaNoop } from '../protocol/RequestEncoder.js';
import { wireTtl } from '../protocol/WireFields.js';
import type { Pool } from '../transport/Pool.js';
import { Request, reserveOpaques, sendRequest } from '../transport/Request.js';
import type { OutageWork } from './OutageRecord.js';

/**
 * Deletes per request: quiet `md … q` answer nothing on success, so a server working through a
 * long batch sends no byte until its `mn`. Chunks keep each silence short (1,000 deletes take
 * ~2 ms on memcached 1.6.18 here), so the pipeline, which judges a server by written requests
 * left unanswered for `request_timeout`, sees steady progress however long the record is.
 */
const DELETES_PER_REQUEST = 1000;

/**
 * Undoes an outage on a server that is about to rejoin: `flush_all` when its record overflowed,
 * else a pipelined quiet `md` per recorded key, ended by `mn`. Resolves when the server has
 * answered all of it; rejects when any of it failed (the server then stays out).
 */
export async function replayOutage(pool: Pool, work: OutageWork): Promise<void> {
  const id = pool.endpoint.id;
  const send = (request: Request): Promise<unknown> =>
    sendRequest(request, undefined, id, (r) => pool.dispatch(r));
  if (work.flush)
    await send(new Request(RequestKind.Flush, flushAllCommand(wireTtl(0, 'delay')), null, -1, 0));
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < work.keys.length; i += DELETES_PER_REQUEST)
    sends.push(send(deleteBatch(work.keys.slice(i, i + DELETES_PER_REQUEST))));
  await Promise.all(sends);
}

/** Quiet `md`s for `keys`, ended by `mn`: only a failure (or a miss, on some versions) answers. */
function deleteBatch(keys: readonly EncodedKey[]): Request {
  const opaque = reserveOpaques(keys.length);
  let payload = '';
  for (let i = 0; i < keys.length; i++) payload += metaDelete(keys[i]!, null, opaque + i, true);
  const request = new Request(RequestKind.Batch, payload + metaNoop(), null, opaque, keys.length);
  request.collected = new Array(keys.length);
  request.keys = keys.map((k) => k.key);
  return request;
}
