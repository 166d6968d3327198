/**
 * `References`: the plain in-memory `IReferences` of pip-services4.
 *
 * A reference matches a locator when the locator *is* the component, when both locators are
 * Descriptors that `match` (wildcards), or when the locators are equal (`===`, or an `equals`
 * method on the stored locator). Lookups return the most recently added matches first, so a
 * later registration shadows an earlier one in `getOneOptional`.
 */
import { Descriptor } from './Descriptor.js';
import { ReferenceException } from './errors.js';
import type { IReferences } from './IReferences.js';

interface Reference {
  readonly locator: unknown;
  readonly component: unknown;
}

function locatorText(locator: unknown): string {
  if (typeof locator === 'string') return locator;
  return locator instanceof Descriptor ? locator.toString() : String(locator);
}

function matches(reference: Reference, locator: unknown): boolean {
  if (reference.component === locator) return true;
  const own = reference.locator;
  if (own instanceof Descriptor) return own.equals(locator);
  if (own !== null && typeof own === 'object' && typeof (own as { equals?: unknown }).equals === 'function') {
    return (own as { equals(v: unknown): boolean }).equals(locator);
  }
  return own === locator;
}

export class References implements IReferences {
  readonly #references: Reference[] = [];

  /** `tuples`: locator1, component1, locator2, component2, … */
  constructor(tuples?: readonly unknown[] | null) {
    if (tuples != null) {
      for (let i = 0; i + 1 < tuples.length; i += 2) this.put(tuples[i], tuples[i + 1]);
    }
  }

  put(locator: unknown, component: unknown): void {
    if (component == null) throw new TypeError('References.put: component cannot be null');
    this.#references.push({ locator, component });
  }

  /** Removes the most recently added match; returns its component or null. */
  remove(locator: unknown): unknown {
    if (locator == null) return null;
    for (let i = this.#references.length - 1; i >= 0; i--) {
      const reference = this.#references[i]!;
      if (matches(reference, locator)) {
        this.#references.splice(i, 1);
        return reference.component;
      }
    }
    return null;
  }

  removeAll(locator: unknown): unknown[] {
    const removed: unknown[] = [];
    if (locator == null) return removed;
    for (let i = this.#references.length - 1; i >= 0; i--) {
      const reference = this.#references[i]!;
      if (matches(reference, locator)) {
        this.#references.splice(i, 1);
        removed.push(reference.component);
      }
    }
    return removed;
  }

  getAllLocators(): unknown[] {
    return this.#references.map((r) => r.locator);
  }

  getAll(): unknown[] {
    return this.#references.map((r) => r.component);
  }

  getOptional<T = any>(locator: unknown): T[] {
    return this.find<T>(locator, false);
  }

  getRequired<T = any>(locator: unknown): T[] {
    return this.find<T>(locator, true);
  }

  getOneOptional<T = any>(locator: unknown): T | null {
    return this.find<T>(locator, false)[0] ?? null;
  }

  getOneRequired<T = any>(locator: unknown): T {
    return this.find<T>(locator, true)[0]!;
  }

  /** Matching components, newest first. `required` and none found → `ReferenceException`. */
  find<T = any>(locator: unknown, required: boolean): T[] {
    if (locator == null) throw new TypeError('References.find: locator cannot be null');
    const components: T[] = [];
    for (let i = this.#references.length - 1; i >= 0; i--) {
      const reference = this.#references[i]!;
      if (matches(reference, locator)) components.push(reference.component as T);
    }
    if (components.length === 0 && required) {
      const text = locatorText(locator);
      throw new ReferenceException(`Cannot locate reference: ${text}`, { details: { locator: text } });
    }
    return components;
  }

  static fromTuples(...tuples: unknown[]): References {
    return new References(tuples);
  }
}
