/**
 * `Factory`: creates components from registered locators, as pip-services4's `Factory`.
 *
 * A locator is usually a `Descriptor`; a request matches a registration when it is the same
 * object or when the registered locator's `equals` says so (for descriptors: wildcard match), so
 * `pip-services:cache:memory:*:1.0` creates `pip-services:cache:memory:default:1.0`. Registrations
 * are searched in order; the first match wins.
 */
import { ContextResolver } from '../component/ContextResolver.js';
import { type ErrorOptions, MemcachedCacheError } from '../component/errors.js';
import type { ContextLike } from '../component/IContext.js';

/** pip-services4 `IFactory`. */
export interface IFactory {
  /** The registered locator matching `locator`, or `null` when this factory cannot create it. */
  canCreate(locator: any): any;
  /** Creates the component; throws `CreateError` when it cannot. */
  create(locator: any, context?: ContextLike): any;
}

/** The factory cannot create the requested component, or its constructor threw (see `cause`). */
export class CreateError extends MemcachedCacheError {
  constructor(message: string, options?: ErrorOptions) {
    super('CANNOT_CREATE', message, options);
  }
}

/** pip-services4 spells it this way; both names refer to one class. */
export const CreateException = CreateError;

export type FactoryFunction = (locator: any) => any;

interface Registration {
  readonly locator: any;
  readonly factory: FactoryFunction;
}

function matches(registered: any, requested: any): boolean {
  return (
    registered === requested ||
    (registered != null && typeof registered.equals === 'function' && registered.equals(requested) === true)
  );
}

export class Factory implements IFactory {
  readonly #registrations: Registration[] = [];

  /** Registers a function that receives the requested locator and returns the component. */
  register(locator: any, factory: FactoryFunction): void {
    if (locator == null) throw new TypeError('Factory.register: locator cannot be null');
    if (typeof factory !== 'function') throw new TypeError('Factory.register: factory must be a function');
    this.#registrations.push({ locator, factory });
  }

  /** Registers a class created with `new type()`. */
  registerAsType(locator: any, type: new () => any): void {
    if (locator == null) throw new TypeError('Factory.registerAsType: locator cannot be null');
    if (typeof type !== 'function') throw new TypeError('Factory.registerAsType: type must be a class');
    this.#registrations.push({ locator, factory: () => new type() });
  }

  canCreate(locator: any): any {
    for (const r of this.#registrations) if (matches(r.locator, locator)) return r.locator;
    return null;
  }

  /**
   * Creates the component registered for `locator`. Throws `CreateError` (code `CANNOT_CREATE`)
   * when nothing matches — pip-services returns `null` there; a throw keeps callers null-free —
   * or when the factory function throws (the original error is the `cause`).
   */
  create(locator: any, context?: ContextLike): any {
    const traceId = ContextResolver.getTraceId(context);
    for (const r of this.#registrations) {
      if (!matches(r.locator, locator)) continue;
      try {
        return r.factory(locator);
      } catch (err) {
        if (err instanceof CreateError) throw err.withTraceId(traceId);
        throw new CreateError(`failed to create component ${String(locator)}`, {
          traceId,
          cause: err,
          details: { locator: String(locator) },
        });
      }
    }
    throw new CreateError(`requested component ${String(locator)} cannot be created`, {
      traceId,
      details: { locator: String(locator) },
    });
  }
}
