/**
 * The error hierarchy. Every error thrown by this package is a `MemcachedCacheError` with a
 * stable `code` to branch on, the trace id of the call that failed, and — where they apply —
 * the server and the key. Values are never part of an error: they may be secrets.
 */

/**
 * Every `code` an error of this package can carry: the one list the type, the README's errors
 * table (a test compares them) and callers' `switch`es agree on.
 */
export const ERROR_CODES = [
  'CONFIG',
  'REF_NOT_FOUND',
  'CONNECTION',
  'TIMEOUT',
  'OVERLOADED',
  'CONTENTION',
  'INVALID_KEY',
  'INVALID_VALUE',
  'VALUE_TOO_LARGE',
  'CORRUPT_VALUE',
  'LOADER_TIMEOUT',
  'SERVER_ERROR',
  'PROTOCOL',
  'UNSUPPORTED_SERVER',
  'AUTHENTICATION',
  'INVALID_STATE',
  'ABORTED',
  'LOCK_TIMEOUT',
  'CANNOT_CREATE',
] as const;

/** A stable error code: `e.code === 'TIMEOUTT'` does not compile. */
export type MemcachedErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorOptions {
  traceId?: string | null;
  server?: string;
  key?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class MemcachedCacheError extends Error {
  /** Stable identifier to branch on; messages may change, codes do not. */
  readonly code: MemcachedErrorCode;
  traceId: string | null;
  readonly server?: string;
  readonly key?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: MemcachedErrorCode, message: string, options: ErrorOptions = {}) {
    super(logSafe(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.traceId = options.traceId ?? null;
    if (options.server !== undefined) this.server = options.server;
    if (options.key !== undefined) this.key = options.key;
    if (options.details !== undefined) this.details = options.details;
  }

  /**
   * Names the entry of a batch this error is about (`batch entry 3: …`, `details.entry` 3; the
   * index into what the caller passed). Used only on errors made for that one call.
   */
  forEntry(index: number): this {
    this.message = `batch entry ${index}: ${this.message}`;
    (this as { details?: Record<string, unknown> }).details = { ...this.details, entry: index };
    return this;
  }

  /** Attaches the trace id of the call this error surfaced in, if it has none yet. */
  withTraceId(traceId: string | null | undefined): this {
    if (this.traceId == null && traceId != null) this.traceId = traceId;
    return this;
  }
}

/** Runs `step` for batch entry `index`; an error of ours it throws names the entry (`forEntry`). */
export function atEntry<T>(index: number, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw error instanceof MemcachedCacheError ? error.forEntry(index) : error;
  }
}

/**
 * Builds an error without capturing a stack trace. For errors made in bulk by the engine (a
 * deadline passing for thousands of calls, a burst rejected as overloaded, a connection failing
 * all its requests): their stack shows only our internals, and capturing it costs more than
 * the work the error reports (measured ~8 µs each vs ~1 µs).
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * An error of class `Class` made without running the native Error constructor, for rejections
 * issued by the hundred thousand (overload shedding): ~0.2 µs instead of ~1 µs even with no stack
 * trace, measured on a 2-core VM. It is `instanceof Class`, `Error` and `MemcachedCacheError`,
 * with the same fields; its `stack` is the one line `Name: message` (there is no trace to show).
 */
export function lightError<T extends MemcachedCacheError>(
  Class: abstract new (...args: never[]) => T,
  code: MemcachedErrorCode,
  message: string,
  options: ErrorOptions,
): T {
  const error = Object.create(Class.prototype) as {
    -readonly [K in keyof MemcachedCacheError]: MemcachedCacheError[K];
  };
  error.message = message;
  error.code = code;
  error.traceId = options.traceId ?? null;
  if (options.server !== undefined) error.server = options.server;
  if (options.key !== undefined) error.key = options.key;
  if (options.details !== undefined) error.details = options.details;
  error.stack = `${Class.name}: ${message}`;
  return error as unknown as T;
}

/** A configuration value is missing or invalid; the message names the key. */
export class ConfigError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG', message, options);
  }
}

/** pip-services4 spells it this way; both names refer to one class. */
export const ConfigException = ConfigError;

/** A required reference was not found in `References`. */
export class ReferenceException extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('REF_NOT_FOUND', message, options);
  }
}

/** A socket could not be opened, or broke while requests were in flight. */
export class ConnectionError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONNECTION', message, options);
  }
}

/** No response within `request_timeout`, or no connection within `reconnect`. */
export class TimeoutError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIMEOUT', message, options);
  }
}

/**
 * Other callers in this or another process kept winning a race on the key, while the server
 * answered every request: `remove()` lost its read-then-delete to concurrent writers every
 * attempt, or a `getOrStore` waited as long as a lease can live for other callers' loads. Not a
 * transport failure: nothing was retried on another server, no server was blamed. Try again
 * later, or write less often to that key.
 */
export class ContentionError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONTENTION', message, options);
  }
}

/**
 * A `getOrStore` loader did not settle within `lease_timeout` (its deadline: the lease it holds
 * lasts that long). The caller rejects, the lease is released so another caller may load, and
 * whatever the loader resolves later is dropped (its AbortSignal fires at the deadline).
 */
export class LoaderTimeoutError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('LOADER_TIMEOUT', message, options);
  }
}

/** The key is empty, not a string, or longer than `max_key_size` bytes. Nothing was sent. */
export class InvalidKeyError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_KEY', message, options);
  }
}

/** The value cannot be encoded (BigInt, cycle, unsupported type), or a TTL is invalid. */
export class InvalidValueError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_VALUE', message, options);
  }
}

/**
 * The encoded value is larger than `max_value` bytes (nothing was sent); or a value read is: as
 * stored (its bytes are skipped) or once inflated (inflating stops at `max_value`).
 */
export class ValueTooLargeError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('VALUE_TOO_LARGE', message, options);
  }
}

/**
 * A stored value cannot be decoded as its flags say (flagged compressed but not deflate data).
 * Only that read fails, naming the key; the connection is fine — the bytes are what some writer
 * stored.
 */
export class CorruptValueError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('CORRUPT_VALUE', message, options);
  }
}

/** The server answered `SERVER_ERROR`, `CLIENT_ERROR` or `ERROR`. */
export class ServerError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('SERVER_ERROR', message, options);
  }
}

/** The byte stream from the server could not be parsed or did not match the requests sent. */
export class ProtocolError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL', message, options);
  }
}

/** The server does not speak the meta protocol (memcached < 1.6 or another product). */
export class UnsupportedServerError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNSUPPORTED_SERVER', message, options);
  }
}

/** The server refused the credentials. */
export class AuthenticationError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('AUTHENTICATION', message, options);
  }
}

/** A method was called before `open()` or after `close()`. */
export class InvalidStateError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_STATE', message, options);
  }
}

/** The operation was cancelled through its `AbortSignal`. */
export class AbortError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('ABORTED', message, options);
  }
}

/** `acquireLock` did not get the lock within its timeout. */
export class LockTimeoutError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('LOCK_TIMEOUT', message, options);
  }
}

/**
 * Too many calls are pending in this client (`max_pending`): the call was rejected at once,
 * without being sent, so a burst degrades instead of timing out everything queued behind it.
 */
export class OverloadedError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('OVERLOADED', message, options);
  }
}
// Shed calls get `lightError(OverloadedError, …)`: its name comes from here, not the constructor.
OverloadedError.prototype.name = 'OverloadedError';

const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * A message may quote a key, and a key may hold control characters (it travels base64): escaped
 * here, once for every error, so a message is always one line and a key cannot forge log lines.
 */
function logSafe(message: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(message)) return message;
  return message.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
