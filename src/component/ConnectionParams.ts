/**
 * `ConnectionParams`: one server's connection settings (`host`, `port`, `uri`, `protocol`,
 * `discovery_key`), as in pip-services4. Credentials live separately in `CredentialParams`.
 *
 * Beyond pip-services we remember `configPath` — where in the component config these params came
 * from (`connection`, `connections.1`) — so validation errors can name the exact key
 * (`connections.1.port`). It is not a map entry, so it never leaks into `toString()`.
 */
import { ConfigParams, type ConfigValues } from './ConfigParams.js';

export class ConnectionParams extends ConfigParams {
  /** `connection` / `connections.N` when read by `manyFromConfig`; `null` otherwise. */
  configPath: string | null = null;

  constructor(values?: ConfigValues | null) {
    super(values);
    if (values instanceof ConnectionParams) this.configPath = values.configPath;
  }

  getDiscoveryKey(): string | null {
    return this.getAsNullableString('discovery_key');
  }

  setDiscoveryKey(value: string | null): void {
    this.put('discovery_key', value);
  }

  /** True when the connection must be resolved through an `IDiscovery` (non-empty `discovery_key`). */
  useDiscovery(): boolean {
    const key = this.getDiscoveryKey();
    return key != null && key.trim() !== '';
  }

  getProtocol(): string | null {
    return this.getAsNullableString('protocol');
  }

  getProtocolWithDefault(defaultValue: string): string {
    return this.getProtocol() ?? defaultValue;
  }

  setProtocol(value: string | null): void {
    this.put('protocol', value);
  }

  /** `host`, or its pip-services alias `ip`. */
  getHost(): string | null {
    return this.getAsNullableString('host') || this.getAsNullableString('ip') || null;
  }

  setHost(value: string | null): void {
    this.put('host', value);
  }

  /** Lenient (pip-services): 0 when missing or not a number. `parseServerList` validates strictly. */
  getPort(): number {
    return this.getAsInteger('port');
  }

  getPortWithDefault(defaultPort: number): number {
    return this.getAsIntegerWithDefault('port', defaultPort);
  }

  setPort(value: number | null): void {
    this.put('port', value);
  }

  getUri(): string | null {
    return this.getAsNullableString('uri');
  }

  setUri(value: string | null): void {
    this.put('uri', value);
  }

  override clone(): ConnectionParams {
    return new ConnectionParams(this);
  }

  static override fromTuples(...tuples: unknown[]): ConnectionParams {
    return new ConnectionParams(ConfigParams.fromTuplesArray(tuples));
  }

  static override fromString(line: string | null | undefined): ConnectionParams {
    return new ConnectionParams(ConfigParams.fromString(line));
  }

  /**
   * Every connection in `config`: one per `connections.N` section when a `connections` section
   * exists (it wins over `connection`, as in pip-services4), else the `connection` section.
   * Numeric section names are taken in numeric order (`connections.10` after `connections.2`).
   */
  static manyFromConfig(config: ConfigParams | null | undefined): ConnectionParams[] {
    return readSections(config, 'connections', 'connection', (values, path) => {
      const params = new ConnectionParams(values);
      params.configPath = path;
      return params;
    });
  }

  /** The first connection of `manyFromConfig`, or null. */
  static fromConfig(config: ConfigParams | null | undefined): ConnectionParams | null {
    return ConnectionParams.manyFromConfig(config)[0] ?? null;
  }
}

/** Shared by connections and credentials: `plural.N.*` sections win over `singular.*`. */
export function readSections<T>(
  config: ConfigParams | null | undefined,
  plural: string,
  singular: string,
  make: (values: ConfigParams, path: string) => T,
): T[] {
  if (config == null) return [];
  const many = config.getSection(plural);
  if (many.length() > 0) {
    const names = many.getSectionNames();
    if (names.every((n) => /^\d+$/.test(n))) names.sort((a, b) => Number(a) - Number(b));
    return names.map((name) => make(many.getSection(name), `${plural}.${name}`));
  }
  const one = config.getSection(singular);
  return one.length() > 0 ? [make(one, singular)] : [];
}
