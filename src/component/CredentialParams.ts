/**
 * `CredentialParams`: secrets for a connection — `username`, `password`, `store_key`, and TLS
 * file paths `ssl_ca_file` / `ssl_crt_file` / `ssl_key_file` — read from `credential.*` or
 * `credentials.N.*`. Kept apart from `ConnectionParams` (pip-services convention) so secrets can
 * come from a credential store instead of plain config.
 *
 * `toString()` hides `password` and `access_key`: a credential object that ends up in a log line
 * must not leak them. `configPath` is as in `ConnectionParams`.
 */
import { ConfigParams, type ConfigValues } from './ConfigParams.js';
import { readSections } from './ConnectionParams.js';

const HIDDEN = new Set(['password', 'pass', 'access_key', 'secret']);

export class CredentialParams extends ConfigParams {
  configPath: string | null = null;

  constructor(values?: ConfigValues | null) {
    super(values);
    if (values instanceof CredentialParams) this.configPath = values.configPath;
  }

  getStoreKey(): string | null {
    return this.getAsNullableString('store_key');
  }

  setStoreKey(value: string | null): void {
    this.put('store_key', value);
  }

  /** True when the credential must be looked up in an `ICredentialStore` (non-empty `store_key`). */
  useCredentialStore(): boolean {
    const key = this.getStoreKey();
    return key != null && key.trim() !== '';
  }

  /** `username`, or its alias `user`. */
  getUsername(): string | null {
    return this.getAsNullableString('username') || this.getAsNullableString('user') || null;
  }

  setUsername(value: string | null): void {
    this.put('username', value);
  }

  /** `password`, or its alias `pass`. */
  getPassword(): string | null {
    return this.getAsNullableString('password') || this.getAsNullableString('pass') || null;
  }

  setPassword(value: string | null): void {
    this.put('password', value);
  }

  getAccessId(): string | null {
    return this.getAsNullableString('access_id') || this.getAsNullableString('client_id') || null;
  }

  getAccessKey(): string | null {
    return this.getAsNullableString('access_key') || this.getAsNullableString('client_key') || null;
  }

  getSslCaFile(): string | null {
    return this.getAsNullableString('ssl_ca_file');
  }

  getSslCrtFile(): string | null {
    return this.getAsNullableString('ssl_crt_file');
  }

  getSslKeyFile(): string | null {
    return this.getAsNullableString('ssl_key_file');
  }

  override clone(): CredentialParams {
    return new CredentialParams(this);
  }

  override toString(): string {
    const parts: string[] = [];
    for (const [key, value] of this) {
      if (value === null) parts.push(key);
      else parts.push(`${key}=${HIDDEN.has(key) ? '***' : value}`);
    }
    return parts.join(';');
  }

  static override fromTuples(...tuples: unknown[]): CredentialParams {
    return new CredentialParams(ConfigParams.fromTuplesArray(tuples));
  }

  static override fromString(line: string | null | undefined): CredentialParams {
    return new CredentialParams(ConfigParams.fromString(line));
  }

  /** One per `credentials.N` section when present (wins over `credential`), else `credential`. */
  static manyFromConfig(config: ConfigParams | null | undefined): CredentialParams[] {
    return readSections(config, 'credentials', 'credential', (values, path) => {
      const params = new CredentialParams(values);
      params.configPath = path;
      return params;
    });
  }

  static fromConfig(config: ConfigParams | null | undefined): CredentialParams | null {
    return CredentialParams.manyFromConfig(config)[0] ?? null;
  }
}
