/**
 * `Context`: the basic `IContext` — an immutable bag of values, usually just `trace_id`.
 */
import type { IContext } from './IContext.js';

export class Context implements IContext {
  readonly #values: Map<string, unknown>;

  constructor(values?: ReadonlyMap<string, unknown> | Record<string, unknown> | null) {
    this.#values =
      values == null
        ? new Map()
        : values instanceof Map
          ? new Map(values)
          : new Map(Object.entries(values as Record<string, unknown>));
  }

  get(key: string): any {
    return this.#values.get(key) ?? null;
  }

  getTraceId(): string | null {
    const id = this.get('trace_id') ?? this.get('traceId');
    return id == null || id === '' ? null : String(id);
  }

  getClient(): string | null {
    const client = this.get('client');
    return client == null ? null : String(client);
  }

  getUser(): any {
    return this.get('user');
  }

  static fromTraceId(traceId: string): Context {
    return new Context({ trace_id: traceId });
  }

  static fromValue(
    value: Record<string, unknown> | ReadonlyMap<string, unknown> | null | undefined,
  ): Context {
    return new Context(value);
  }

  /** key1, value1, key2, value2, … */
  static fromTuples(...tuples: unknown[]): Context {
    const values = new Map<string, unknown>();
    for (let i = 0; i + 1 < tuples.length; i += 2) values.set(String(tuples[i]), tuples[i + 1]);
    return new Context(values);
  }
}
