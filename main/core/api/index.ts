export { ApiClient, type ApiClientOptions } from './api-client.ts';
export { ApiError, errorFromNetwork, errorFromResponse, isSignInRequired } from './api-errors.ts';
export { normalizeDomain } from './domain.ts';
export { MemoryTokenProvider, SecretStoreTokenProvider, tokensAccount } from './token-providers.ts';
export type * from './types.ts';
