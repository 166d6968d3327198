import { InvalidStateError } from '../component/errors.js';
import type { Topology } from '../topology/Topology.js';
import type { Clock } from '../transport/Clock.js';
import { TickClock } from '../transport/Clock.js';
import { tracePromise } from '../transport/tracing.js';
import { Admission } from './Admission.js';
import type { Command } from './Command.js';
import { DeadlineQueue } from './DeadlineQueue.js';
import { type CommandTraceContext, commandTracing } from './diagnostics.js';
import { Operation, type OperationHost } from './Operation.js';

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * `false`: the key never moves to another server. The call goes to the key's server by the
   * configured list; while that server is ejected it rejects at once with ConnectionError
   * (`details.requestSent: false`) instead of going to a substitute. For keys whose correctness
   * needs one home (locks). Default true.
   */
  failover?: boolean;
}

export interface CallExecutorOptions {
  requestTimeoutMs: number;
  retries: number;
  maxPending: number;
  clock: Clock;
}

/**
 * Runs commands: admission (`max_pending`), one Operation per call (routed by the topology, sent,
 * retried on transport failures until the caller's deadline), tracing when
 * `memcached-cache:command` has subscribers. One promise per call.
 */
export class CallExecutor {
  private readonly admission: Admission;
  /** Data properties only (no getter): an accessor in this literal made every load from it in
   * Operation a generic LoadIC call (~700 instructions per call, measured with callgrind). Also
   * the one home of the client's closed state. */
  private readonly host: OperationHost & { closed: boolean };

  constructor(topology: Topology, options: CallExecutorOptions) {
    const admission = new Admission(options.maxPending);
    this.admission = admission;
    this.host = {
      requestTimeoutMs: options.requestTimeoutMs,
      retries: options.retries,
      clock: options.clock,
      callClock: new TickClock(options.clock),
      deadlines: new DeadlineQueue(options.clock),
      closed: false,
      route: (command) =>
        command.server ??
        (command.mutates ? topology.routeChange(command.key!) : topology.route(command.key!)),
      ttlCap: () => topology.takeFailoverTtl(),
      home: (command) => command.server ?? topology.home(command.key!),
      groupByServer: (keys, home) => topology.groupByServer(keys, home),
      isOut: (id) => !topology.isAlive(id),
      poolFor: (id) => topology.poolFor(id),
      release: (weight) => admission.release(weight),
    };
  }

  get closed(): boolean {
    return this.host.closed;
  }

  /**
   * Whether a call of `weight` would pass `max_pending`. The hot calls ask before they even
   * check their arguments: under a burst, shedding must cost far less than the work it sheds (a
   * burst of 200,000 calls against a stopped server must settle within `request_timeout`).
   */
  wouldOverload(weight: number): boolean {
    return this.admission.wouldOverload(weight);
  }

  /** The rejection of a call over `max_pending`. */
  shed(key: unknown): Promise<never> {
    return Promise.reject(this.admission.overloaded(typeof key === 'string' ? key : undefined));
  }

  /** Runs one built command (`weight`: its share of `max_pending`, one per key of a batch). */
  execute<T>(command: Command<T>, options: CallOptions | undefined, weight = 1): Promise<T> {
    if (this.host.closed)
      return Promise.reject(
        new InvalidStateError('The memcached client is closed', { key: command.key?.key }),
      );
    if (this.admission.wouldOverload(weight))
      return Promise.reject(this.admission.overloaded(command.key?.key));
    this.admission.admit(weight);
    if (commandTracing.hasSubscribers) return this.traced(command, options, weight);
    const promise = new Promise<T>(capture);
    const operation = new Operation<T>(
      this.host,
      command,
      weight,
      options?.signal,
      captured.resolve,
      captured.reject,
    );
    if (options?.failover === false) operation.pinned = true;
    operation.start();
    return promise;
  }

  /** Throws InvalidStateError once closed. */
  assertOpen(): void {
    if (this.host.closed) throw new InvalidStateError('The memcached client is closed');
  }

  /** Calls in flight settle on their own (dispatch sees `closed`); none needs the deadline timer. */
  close(): void {
    this.host.closed = true;
    this.host.deadlines.clear();
  }

  /** `execute` when `memcached-cache:command` has subscribers: the same Operation, traced. */
  private traced<T>(command: Command<T>, options: CallOptions | undefined, weight: number): Promise<T> {
    const context: CommandTraceContext = { command: command.name };
    if (command.keys !== null) {
      context.keyCount = command.keys.length;
      context.batchSize = command.keys.length;
    } else if (command.key !== null) context.key = command.key.key;
    return tracePromise(
      commandTracing,
      context,
      () =>
        new Promise<T>((resolve, reject) => {
          const operation = new Operation<T>(
            this.host,
            command,
            weight,
            options?.signal,
            resolve,
            reject,
            context,
          );
          if (options?.failover === false) operation.pinned = true;
          operation.start();
        }),
    );
  }
}

/**
 * The resolving functions of the promise being created: `new Promise(capture)` runs `capture`
 * synchronously, so they are read right after. One shared executor instead of a closure per call.
 */
const captured: { resolve: (value: any) => void; reject: (error: Error) => void } = {
  resolve: () => {},
  reject: () => {},
};

function capture(resolve: (value: any) => void, reject: (error: Error) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}
