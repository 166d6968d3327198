/**
 * `IReferences`: the registry components receive in `setReferences` to find their dependencies.
 * A locator is usually a `Descriptor` (matched with wildcards) but may be any value (equality).
 */
export interface IReferences {
  put(locator: unknown, component: unknown): void;
  remove(locator: unknown): unknown;
  removeAll(locator: unknown): unknown[];
  getAllLocators(): unknown[];
  getAll(): unknown[];
  /** Every component matching `locator`, newest first; empty when none. */
  getOptional<T = any>(locator: unknown): T[];
  /** Like `getOptional`, but throws `ReferenceException` naming the locator when none match. */
  getRequired<T = any>(locator: unknown): T[];
  getOneOptional<T = any>(locator: unknown): T | null;
  getOneRequired<T = any>(locator: unknown): T;
  find<T = any>(locator: unknown, required: boolean): T[];
}
