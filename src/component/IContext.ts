/**
 * `IContext`: the execution context passed through every call, as in pip-services4. It carries
 * at least the trace id (`trace_id`) that appears in every error and log line.
 */
export interface IContext {
  get(key: string): any;
}

/**
 * What our methods accept as `context`: an `IContext`, a plain trace id string (the seed calls
 * `cache.open("123")`), or nothing. `ContextResolver.getTraceId` turns any of them into a trace id.
 */
export type ContextLike = IContext | string | null | undefined;
