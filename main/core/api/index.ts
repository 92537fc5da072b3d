export { ApiClient, type ApiClientOptions } from './api-client.ts';
export { ApiError, errorFromNetwork, errorFromResponse, hasCode, isSignInRequired, retryAfterText } from './api-errors.ts';
export { isMfaChallenge } from './types.ts';
export { normalizeDomain } from './domain.ts';
export { MemoryTokenProvider, SecretStoreTokenProvider, tokensAccount } from './token-providers.ts';
export type * from './types.ts';
