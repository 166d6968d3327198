/**
 * `Descriptor`: the `group:type:kind:name:version` locator of pip-services4 references.
 *
 * Components find each other by descriptor rather than by class, so a `MemcachedCache` can ask
 * for "any discovery service, contract 1.0" (`*:discovery:*:*:1.0`) without knowing which one
 * was registered. `*` or `null` in a field means "any" and is stored as `null`.
 */
import { ConfigError } from './errors.js';

type Field = string | null | undefined;

function normalize(field: Field): string | null {
  return field == null || field === '*' ? null : field;
}

function matchField(a: string | null, b: string | null): boolean {
  return a === null || b === null || a === b;
}

export class Descriptor {
  readonly #group: string | null;
  readonly #type: string | null;
  readonly #kind: string | null;
  readonly #name: string | null;
  readonly #version: string | null;

  constructor(group: Field, type: Field, kind: Field, name: Field, version: Field) {
    this.#group = normalize(group);
    this.#type = normalize(type);
    this.#kind = normalize(kind);
    this.#name = normalize(name);
    this.#version = normalize(version);
  }

  getGroup(): string | null {
    return this.#group;
  }

  getType(): string | null {
    return this.#type;
  }

  getKind(): string | null {
    return this.#kind;
  }

  getName(): string | null {
    return this.#name;
  }

  getVersion(): string | null {
    return this.#version;
  }

  /** Partial match: a wildcard on either side matches anything. Symmetric. */
  match(descriptor: Descriptor): boolean {
    return (
      matchField(this.#group, descriptor.getGroup()) &&
      matchField(this.#type, descriptor.getType()) &&
      matchField(this.#kind, descriptor.getKind()) &&
      matchField(this.#name, descriptor.getName()) &&
      matchField(this.#version, descriptor.getVersion())
    );
  }

  /** Every field equal, wildcards included (`*` only matches `*`). */
  exactMatch(descriptor: Descriptor): boolean {
    return (
      this.#group === descriptor.getGroup() &&
      this.#type === descriptor.getType() &&
      this.#kind === descriptor.getKind() &&
      this.#name === descriptor.getName() &&
      this.#version === descriptor.getVersion()
    );
  }

  /** True when no field is a wildcard. */
  isComplete(): boolean {
    return (
      this.#group !== null &&
      this.#type !== null &&
      this.#kind !== null &&
      this.#name !== null &&
      this.#version !== null
    );
  }

  /** pip-services semantics: equal means *matches* another Descriptor; anything else is unequal. */
  equals(value: unknown): boolean {
    return value instanceof Descriptor && this.match(value);
  }

  toString(): string {
    return [this.#group, this.#type, this.#kind, this.#name, this.#version].map((f) => f ?? '*').join(':');
  }

  /**
   * Parses `group:type:kind:name:version` (fields trimmed). Throws `ConfigError` unless there are
   * exactly five parts — including for an empty string, where pip-services returns null; a
   * non-null result keeps callers free of null checks.
   */
  static fromString(value: string): Descriptor {
    const tokens = String(value ?? '').split(':');
    if (tokens.length !== 5) {
      throw new ConfigError(
        `descriptor '${value}' is in wrong format: expected group:type:kind:name:version (5 parts), got ${tokens.length}`,
        { details: { descriptor: value } },
      );
    }
    const [group, type, kind, name, version] = tokens.map((t) => t.trim()) as [
      string,
      string,
      string,
      string,
      string,
    ];
    return new Descriptor(group, type, kind, name, version);
  }
}
