/**
 * `ConfigParams`: the string map every pip-services4 component is configured with.
 *
 * Values are kept as strings (as in pip-services4's `StringValueMap`) because configuration
 * arrives as text — YAML, environment variables, `key=value;...` lines — and converting on read
 * keeps one representation. Keys are case-sensitive and use dots for sections:
 * `connection.host`, `connections.0.port`, `options.timeout`.
 *
 * The `getAsX` readers keep pip-services semantics: a value that does not convert yields the
 * default (`0`, `false`, `''`). That leniency hides typos, so our own components read with the
 * strict helpers in `ConfigReaders.ts`, which throw `ConfigError` naming the key.
 *
 * One deliberate difference: numbers are parsed with `Number()` rather than `parseFloat()`, so
 * `"12abc"` is *not* an integer (pip-services would read 12).
 */
import { configValueToString, parseBooleanText, toNullableNumber } from './configText.js';
import { ConfigError } from './errors.js';

/** A value accepted where a map of parameters is expected. */
export type ConfigValues = ConfigParams | ReadonlyMap<string, unknown> | Record<string, unknown>;

export class ConfigParams implements Iterable<[string, string | null]> {
  // A true private field: `util.inspect` and `console.log` do not show it, so logging a config
  // object by accident does not print credentials stored in it.
  readonly #values = new Map<string, string | null>();

  constructor(values?: ConfigValues | null) {
    if (values != null) this.append(values);
  }

  /** Copies entries from another map (values converted to strings, nested objects not flattened). */
  append(values: ConfigValues | null | undefined): void {
    if (values == null) return;
    if (values instanceof ConfigParams) {
      for (const [k, v] of values) this.#values.set(k, v);
    } else if (values instanceof Map) {
      for (const [k, v] of values) this.put(String(k), v);
    } else {
      for (const k of Object.keys(values)) this.put(k, (values as Record<string, unknown>)[k]);
    }
  }

  get(key: string): string | null {
    return this.#values.get(key) ?? null;
  }

  put(key: string, value: unknown): void {
    this.#values.set(key, configValueToString(value));
  }

  remove(key: string): void {
    this.#values.delete(key);
  }

  containsKey(key: string): boolean {
    return this.#values.has(key);
  }

  getKeys(): string[] {
    return [...this.#values.keys()];
  }

  /** A method, as in pip-services4 (`config.length()`). */
  length(): number {
    return this.#values.size;
  }

  clear(): void {
    this.#values.clear();
  }

  [Symbol.iterator](): IterableIterator<[string, string | null]> {
    return this.#values.entries();
  }

  /** Without a key: all entries as a plain object. With a key: that entry's value. */
  getAsObject(key?: string): unknown {
    if (key === undefined) return Object.fromEntries(this.#values);
    return this.get(key);
  }

  getAsNullableString(key: string): string | null {
    return this.get(key);
  }

  /** `''` when missing (typed non-null so callers need no checks). */
  getAsString(key: string): string {
    return this.get(key) ?? '';
  }

  getAsStringWithDefault(key: string, defaultValue: string): string {
    return this.get(key) ?? defaultValue;
  }

  getAsNullableInteger(key: string): number | null {
    const n = toNullableNumber(this.get(key));
    return n === null ? null : Math.trunc(n);
  }

  getAsInteger(key: string): number {
    return this.getAsIntegerWithDefault(key, 0);
  }

  getAsIntegerWithDefault(key: string, defaultValue: number): number {
    return this.getAsNullableInteger(key) ?? defaultValue;
  }

  /** JavaScript has one number type; "long" reads like integer (safe up to 2^53). */
  getAsNullableLong(key: string): number | null {
    return this.getAsNullableInteger(key);
  }

  getAsLong(key: string): number {
    return this.getAsLongWithDefault(key, 0);
  }

  getAsLongWithDefault(key: string, defaultValue: number): number {
    return this.getAsNullableLong(key) ?? defaultValue;
  }

  getAsNullableFloat(key: string): number | null {
    return toNullableNumber(this.get(key));
  }

  getAsFloat(key: string): number {
    return this.getAsFloatWithDefault(key, 0);
  }

  getAsFloatWithDefault(key: string, defaultValue: number): number {
    return this.getAsNullableFloat(key) ?? defaultValue;
  }

  getAsNullableDouble(key: string): number | null {
    return this.getAsNullableFloat(key);
  }

  getAsDouble(key: string): number {
    return this.getAsFloat(key);
  }

  getAsDoubleWithDefault(key: string, defaultValue: number): number {
    return this.getAsFloatWithDefault(key, defaultValue);
  }

  getAsNullableBoolean(key: string): boolean | null {
    return parseBooleanText(this.get(key));
  }

  getAsBoolean(key: string): boolean {
    return this.getAsBooleanWithDefault(key, false);
  }

  getAsBooleanWithDefault(key: string, defaultValue: boolean): boolean {
    return this.getAsNullableBoolean(key) ?? defaultValue;
  }

  /** First-level section names, in insertion order (`a.b` and `a.c` → `a`; `x` → `x`). */
  getSectionNames(): string[] {
    const names = new Set<string>();
    for (const key of this.#values.keys()) {
      const pos = key.indexOf('.');
      names.add(pos > 0 ? key.substring(0, pos) : key);
    }
    return [...names];
  }

  /** Entries under `section.`, with that prefix removed from their keys. */
  getSection(section: string): ConfigParams {
    const result = new ConfigParams();
    const prefix = `${section}.`;
    for (const [key, value] of this.#values) {
      if (key.startsWith(prefix)) result.#values.set(key.substring(prefix.length), value);
    }
    return result;
  }

  /** Puts every entry of `params` under `section.` (an empty key becomes the section key itself). */
  addSection(section: string, params: ConfigParams | null | undefined): void {
    if (params == null) return;
    for (const [key, value] of params) {
      let name = key;
      if (name.length > 0 && section.length > 0) name = `${section}.${name}`;
      else if (name.length === 0) name = section;
      this.#values.set(name, value);
    }
  }

  /** A new ConfigParams: these values, overridden by `params`. */
  override(params: ConfigParams | null | undefined): ConfigParams {
    return ConfigParams.mergeConfigs(this, params);
  }

  /** A new ConfigParams: `defaults`, overridden by these values. */
  setDefaults(defaults: ConfigParams | null | undefined): ConfigParams {
    return ConfigParams.mergeConfigs(defaults, this);
  }

  clone(): ConfigParams {
    return new ConfigParams(this);
  }

  /** `key1=value1;key2=value2` — the form `fromString` reads. May contain secrets: do not log. */
  toString(): string {
    const parts: string[] = [];
    for (const [key, value] of this.#values) parts.push(value === null ? key : `${key}=${value}`);
    return parts.join(';');
  }

  toJSON(): Record<string, string | null> {
    return Object.fromEntries(this.#values);
  }

  /** `fromTuples('a', 1, 'b', 'x')`; a trailing key without value is ignored. */
  static fromTuples(...tuples: unknown[]): ConfigParams {
    return ConfigParams.fromTuplesArray(tuples);
  }

  static fromTuplesArray(tuples: readonly unknown[]): ConfigParams {
    const result = new ConfigParams();
    for (let i = 0; i + 1 < tuples.length; i += 2) result.put(String(tuples[i]), tuples[i + 1]);
    return result;
  }

  /**
   * Flattens a nested value into dotted keys: `{ connection: { host: 'h' } }` → `connection.host`,
   * arrays by index (`connections.0.host`). `undefined` and functions are skipped, `null` kept as
   * a key without value. A cyclic value is a configuration mistake and throws `ConfigError`.
   */
  static fromValue(value: unknown): ConfigParams {
    const result = new ConfigParams();
    const ancestors = new Set<object>();
    const walk = (prefix: string, v: unknown): void => {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return;
      if (v === null || typeof v !== 'object' || v instanceof Date) {
        if (prefix !== '') result.put(prefix, v);
        return;
      }
      if (ancestors.has(v)) {
        throw new ConfigError(`configuration value is cyclic at '${prefix || '(root)'}'`);
      }
      ancestors.add(v);
      const join = (k: string): string => (prefix === '' ? k : `${prefix}.${k}`);
      if (v instanceof ConfigParams) {
        for (const [k, item] of v) result.put(join(k), item);
      } else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) walk(join(String(i)), v[i]);
      } else if (v instanceof Map) {
        for (const [k, item] of v) walk(join(String(k)), item);
      } else {
        for (const k of Object.keys(v)) walk(join(k), (v as Record<string, unknown>)[k]);
      }
      ancestors.delete(v);
    };
    walk('', value);
    return result;
  }

  /** Parses `key1=value1;key2=value2`; keys and values are trimmed, `key` alone means null. */
  static fromString(line: string | null | undefined): ConfigParams {
    const result = new ConfigParams();
    if (line == null) return result;
    for (const token of line.split(';')) {
      if (token.trim().length === 0) continue;
      const index = token.indexOf('=');
      const key = (index > 0 ? token.substring(0, index) : token).trim();
      const value = index > 0 ? token.substring(index + 1).trim() : null;
      result.put(key, value);
    }
    return result;
  }

  /** Later configs override earlier ones; null entries in the list are skipped. */
  static mergeConfigs(...configs: (ConfigParams | null | undefined)[]): ConfigParams {
    const result = new ConfigParams();
    for (const config of configs) result.append(config);
    return result;
  }
}
