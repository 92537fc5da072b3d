/**
 * Where the client keeps secrets (refresh tokens). An `account` is a key such as
 * `tokens:https://gatehouse.example.com`; values are opaque strings.
 */
export type SecretStoreKind = 'keychain' | 'file';

export interface SecretStore {
  readonly kind: SecretStoreKind;
  get(account: string): Promise<string | undefined>;
  set(account: string, value: string): Promise<void>;
  /** Resolves true when something was deleted. */
  delete(account: string): Promise<boolean>;
}

/** The keychain service name every entry is stored under. */
export const SECRET_SERVICE = 'gatehouse';
