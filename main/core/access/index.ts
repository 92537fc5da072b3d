export { SessionManager, type SessionManagerOptions } from './session-manager.ts';
export { AccessSession, portInUse } from './access-session.ts';
export { connectionUrl } from './connection-url.ts';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.ts';
export type { AccessProxy, AccessProxyOptions, CreateAccessProxy } from './local-proxy-port.ts';
export type { AccessEndReason, AccessRequest, AccessState, AccessStatus } from './types.ts';
export { awaitDecision, DECISION_BACKOFF, type AwaitDecisionOptions } from './await-decision.ts';
