import { TimeoutError, withoutStack } from '../component/errors.js';
import type { Clock, TickClock } from '../transport/Clock.js';
import type { DeadlineQueue } from './DeadlineQueue.js';

/** What judging a passed deadline reads of the client: its timeout, clocks and deadline queue. */
export interface DeadlineContext {
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly callClock: TickClock;
  readonly deadlines: DeadlineQueue;
}

/** Where a call stood when its deadline passed. */
export interface CallAtDeadline {
  /** Its server, when it was routed to one. */
  server: string | undefined;
  key: string | undefined;
  /** Clock time its deadline was set for (its start + `request_timeout`). */
  dueAt: number;
  /** Clock time its current request was written; 0 when it never was. */
  sentAt: number;
  /** It is a retry (an earlier attempt failed). */
  retried: boolean;
  /** An earlier attempt may have reached its server. */
  sentBefore: boolean;
  /** A part of a re-split batch still in flight was written. */
  partWritten: boolean;
}

/**
 * The TimeoutError of a call whose deadline passed. It says where the time went, so nobody hunts
 * a slow server for our own burst (`details.cause`):
 * - `local-queue`: never written (waited in this process for a connection; it now never will
 *   be: `requestSent: false`), or written only after half the budget was spent here;
 * - `event-loop`: our loop was blocked for a quarter of the budget or more while the request
 *   waited (a long synchronous stretch seen by the call clock, a late deadline timer, a loop
 *   busy ≥ 90 % since the timer was armed), so a reply may have sat unread;
 * - `server`: written in time, our loop responsive, no reply.
 */
export function callTimeoutError(context: DeadlineContext, call: CallAtDeadline): TimeoutError {
  const timeout = context.requestTimeoutMs;
  const server = call.server ?? 'the server';
  const sentAt = call.sentAt;
  let cause: 'local-queue' | 'event-loop' | 'server';
  let message: string;
  const details: Record<string, unknown> = {};
  if (sentAt === 0) {
    cause = 'local-queue';
    message = `No answer within ${timeout} ms (request_timeout): the request waited in this process for a connection to ${server} and was never written${call.sentBefore ? ' (an earlier attempt was)' : ''}`;
    if (!call.sentBefore && !call.partWritten) details.requestSent = false;
  } else {
    const now = context.clock.now();
    const queuedMs = Math.max(0, sentAt - (call.dueAt - timeout));
    const deadlines = context.deadlines;
    const blockedMs = Math.max(
      context.callClock.busyWithin(sentAt, now),
      deadlines.lateByMs,
      deadlines.loopBusy >= SATURATED ? now - sentAt : 0,
    );
    if (queuedMs >= timeout / 2 && queuedMs >= blockedMs) {
      cause = 'local-queue';
      details.queuedMs = Math.round(queuedMs);
      message = `No answer within ${timeout} ms (request_timeout): the request waited ${Math.round(queuedMs)} ms in this process before it was written to ${server}${call.retried ? ' (a retry: an earlier attempt failed)' : ''} (not evidence against the server)`;
    } else if (blockedMs >= timeout / 4) {
      cause = 'event-loop';
      details.blockedMs = Math.round(blockedMs);
      message = `No answer within ${timeout} ms (request_timeout): this process's event loop was busy for ${Math.round(blockedMs)} ms while the request waited, so a reply from ${server} could not be read in time (not evidence against the server)`;
    } else {
      cause = 'server';
      message = `Server ${server} did not answer within ${timeout} ms (request_timeout)`;
    }
  }
  details.cause = cause;
  return withoutStack(() => new TimeoutError(message, { server: call.server, key: call.key, details }));
}

/** A loop busy this share of the time since the deadline timer was armed read no reply in time. */
const SATURATED = 0.9;
