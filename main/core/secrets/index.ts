export type { SecretStore, SecretStoreKind } from './secret-store.ts';
export { SECRET_SERVICE } from './secret-store.ts';
export { FileSecretStore, SECRETS_FILE_NAME } from './file-secret-store.ts';
export { KeytarSecretStore, loadKeytar, DEFAULT_KEYCHAIN_TIMEOUT_MS, type KeytarLike, type KeytarLoadResult } from './keytar-secret-store.ts';
export { FallbackSecretStore } from './fallback-secret-store.ts';
export { createSecretStore, type CreateSecretStoreOptions, type SecretStoreChoice } from './create-secret-store.ts';
