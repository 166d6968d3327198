/**
 * `node:diagnostics_channel` TracingChannels, the mechanism APMs subscribe to (OpenTelemetry,
 * Datadog, Sentry; ioredis, node-redis, mysql2 and undici publish the same way). A traced
 * action publishes `start` (synchronously, in the caller's context, inside `start.runStores`),
 * `end` when its synchronous part returns, then on settlement `error` (failures only),
 * `asyncStart` and `asyncEnd`, all with one context object that it fills in as it goes.
 *
 * Nothing is built or published while a channel has no subscriber (`hasSubscribers` is checked
 * first). Contexts never carry a value: values may be secrets.
 */
import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import type { ServerEndpoint } from './ServerEndpoint.js';

/** What a connection's tracing context says about its server (also used by commands). */
export interface ServerAttributes {
  /** Server id: `host:port` or the socket path. */
  server?: string;
  /** The host (or IP) connected to, or the unix socket path. */
  serverAddress?: string;
  /** The TCP port; absent for a unix socket. */
  serverPort?: number;
}

/** The context of `memcached-cache:connect`: one TCP/TLS connection with its handshake. */
export interface ConnectTraceContext extends ServerAttributes {
  server: string;
  serverAddress: string;
  /** `true` for TLS. */
  tls: boolean;
  /** Set on failure. */
  error?: unknown;
}

export const CONNECT_TRACING = 'memcached-cache:connect';

/** `tracing:memcached-cache:connect:{start,end,asyncStart,asyncEnd,error}`. */
export const connectTracing: TracingChannel<unknown, ConnectTraceContext> = tracingChannel(CONNECT_TRACING);

/** Fills in the server fields of a tracing context from an endpoint. */
export function describeServer(target: ServerAttributes, endpoint: ServerEndpoint): void {
  target.server = endpoint.id;
  if (endpoint.socketPath !== undefined) {
    target.serverAddress = endpoint.socketPath;
    target.serverPort = undefined;
  } else {
    target.serverAddress = endpoint.host;
    target.serverPort = endpoint.port;
  }
}

/**
 * Traces `action` (which starts the work and returns its promise) on `channel` with `context`,
 * publishing the events as `TracingChannel.tracePromise` does, but without ever putting the
 * promise's result on the context (it may be a value).
 */
export function tracePromise<T, C extends { error?: unknown }>(
  channel: TracingChannel<unknown, C>,
  context: C,
  action: () => Promise<T>,
): Promise<T> {
  return channel.start.runStores(context, () => {
    let promise: Promise<T>;
    try {
      promise = action();
    } catch (error) {
      context.error = error;
      channel.error.publish(context);
      throw error;
    } finally {
      channel.end.publish(context);
    }
    return promise.then(
      (value) => {
        channel.asyncStart.publish(context);
        channel.asyncEnd.publish(context);
        return value;
      },
      (error: unknown) => {
        context.error = error;
        channel.error.publish(context);
        channel.asyncStart.publish(context);
        channel.asyncEnd.publish(context);
        throw error;
      },
    );
  });
}
