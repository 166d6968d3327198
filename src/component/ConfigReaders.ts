/**
 * Strict configuration readers for our own components.
 *
 * `ConfigParams.getAsInteger` turns `port: "abc"` into `0` silently — pip-services semantics that
 * we keep for compatibility but do not rely on. These readers throw `ConfigError` whose message
 * names the key and shows the offending text, so a typo fails at `configure()` time, not later as
 * a mysterious connection failure.
 *
 * The offending text is shown because configuration is not secret — except for keys that look
 * like they hold a secret (password, secret, token, private/ssl key content, …), whose values are
 * never printed (`isSensitiveKey`).
 *
 * A missing key, a `null` value or an empty/blank string all mean "not set" → the default.
 */
import type { ConfigParams } from './ConfigParams.js';
import { parseBooleanText } from './configText.js';
import { ConfigError } from './errors.js';

export interface IntegerRange {
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
}

export interface ReadStringOptions {
  /** Throw `ConfigError` when the key is not set instead of returning the default. */
  required?: boolean;
}

const SENSITIVE =
  /pass(word|wd|phrase)?|secret|token|private|credential|(^|[._-])(ssl_|tls_|api_|access_)?key$/i;

/**
 * True for keys whose values must never appear in messages: `credential.password`,
 * `options.secret`, `credential.ssl_key`, `api_key`… (`key_prefix`, `max_key_size` and
 * `ssl_key_file` — a path — are not sensitive).
 */
export function isSensitiveKey(key: string): boolean {
  const last = key.substring(key.lastIndexOf('.') + 1);
  return SENSITIVE.test(last) || /pass(word|wd|phrase)|secret/i.test(key);
}

/** How an offending value is quoted in an error: the text, or a redaction for sensitive keys. */
export function describeConfigValue(key: string, text: string): string {
  return isSensitiveKey(key) ? '(value hidden)' : `'${text}'`;
}

function configError(key: string, problem: string, text: string | null): ConfigError {
  const shown = text === null ? '' : `, got ${describeConfigValue(key, text)}`;
  return new ConfigError(`config key '${key}' ${problem}${shown}`, { details: { configKey: key } });
}

/** The raw text of `key`, or `null` when not set (missing, null or blank). */
function readRaw(config: ConfigParams | null | undefined, key: string): string | null {
  const text = config?.getAsNullableString(key) ?? null;
  if (text === null || text.trim() === '') return null;
  return text.trim();
}

function rangeText(range: IntegerRange): string {
  if (range.min !== undefined && range.max !== undefined) return `between ${range.min} and ${range.max}`;
  if (range.min !== undefined) return `>= ${range.min}`;
  if (range.max !== undefined) return `<= ${range.max}`;
  return '';
}

/** Reads `key` with `parse` (null = not parsable) and checks `range`; errors say what was expected. */
function readRanged(
  config: ConfigParams | null | undefined,
  key: string,
  defaultValue: number,
  range: IntegerRange,
  what: string,
  parse: (text: string) => number | null,
): number {
  const text = readRaw(config, key);
  if (text === null) return defaultValue;
  const bounds = rangeText(range);
  const expected = bounds === '' ? `must be ${what}` : `must be ${what} ${bounds}`;
  const value = parse(text);
  if (value === null) throw configError(key, expected, text);
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    throw configError(key, expected, text);
  }
  return value;
}

/** Reads a whole number (`-5`, `+7`, `1000`; not `1.5`, `1e3`, `12abc`) within `range`. */
export function readInteger(
  config: ConfigParams | null | undefined,
  key: string,
  defaultValue: number,
  range: IntegerRange = {},
): number {
  return readRanged(config, key, defaultValue, range, 'an integer', (text) =>
    /^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null,
  );
}

/** Reads a finite decimal number (`1.5`, `-2`, `1e3`) within `range`. */
export function readNumber(
  config: ConfigParams | null | undefined,
  key: string,
  defaultValue: number,
  range: IntegerRange = {},
): number {
  return readRanged(config, key, defaultValue, range, 'a number', (text) =>
    Number.isFinite(Number(text)) ? Number(text) : null,
  );
}

/** Reads true/t/1/yes/y/on or false/f/0/no/n/off (case-insensitive). */
export function readBoolean(
  config: ConfigParams | null | undefined,
  key: string,
  defaultValue: boolean,
): boolean {
  const text = readRaw(config, key);
  if (text === null) return defaultValue;
  const value = parseBooleanText(text);
  if (value === null) throw configError(key, 'must be a boolean (true/false, yes/no, on/off, 1/0)', text);
  return value;
}

/** Reads a string as written (not trimmed); `required` makes a missing key a `ConfigError`. */
export function readString(
  config: ConfigParams | null | undefined,
  key: string,
  defaultValue: string,
  options: ReadStringOptions = {},
): string {
  const text = config?.getAsNullableString(key) ?? null;
  if (text === null || text.trim() === '') {
    if (options.required) throw configError(key, 'is required but not set', null);
    return defaultValue;
  }
  return text;
}

/**
 * Reads one of `allowed` (matched case-insensitively, returned as spelled in `allowed`).
 * Anything else throws `ConfigError` listing the accepted values.
 */
export function readEnum<T extends string>(
  config: ConfigParams | null | undefined,
  key: string,
  allowed: readonly T[],
  defaultValue: T,
): T {
  const text = readRaw(config, key);
  if (text === null) return defaultValue;
  const lower = text.toLowerCase();
  const found = allowed.find((a) => a.toLowerCase() === lower);
  if (found === undefined) throw configError(key, `must be one of ${allowed.join(', ')}`, text);
  return found;
}
