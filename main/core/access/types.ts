import type { SerializedError } from '../../../proxy-core/src/errors.ts';
import type { MfaProof } from '../api/types.ts';
import type { SessionEndReason } from '../../../proxy-core/src/tunnel/session-end.ts';

export interface AccessRequest {
  projectId: string;
  /** Resource name or id. */
  resource: string;
  /** Account name or id. */
  account: string;
  /** '1h', '30m' or seconds. */
  duration: string | number;
  /** A local port to use (and remember for this account) instead of the remembered one. */
  port?: number;
  /** A fresh MFA proof, for accounts that require MFA (the server answers MFA_REQUIRED without it). */
  mfa?: MfaProof;
  /** An approved access request with an open window, for accounts that require approval. */
  accessRequestId?: string;
  /** Shared machine: generate a per-session local password every client must give (issue 10 item 4). */
  localPassword?: boolean;
}

export type AccessState = 'starting' | 'ready' | 'ending' | 'ended' | 'error';

/**
 * What a person should be told about a session right now, driven by the tunnel's real events:
 * - `ready`: the tunnel is up and the gateway is linked; queries work.
 * - `reconnecting`: the tunnel to Gatehouse dropped (network, server restart, sleep) and is
 *   being re-established; new connections fail until it is back, open ones were cut.
 * - `gateway-offline`: the tunnel is up but the gateway in front of the database is not
 *   linked to Gatehouse; new connections fail until it comes back.
 * - `ended`: over for good; `reason` says why and `revokedBy` who, when an admin revoked it.
 */
export interface ConnectionState {
  state: 'ready' | 'reconnecting' | 'gateway-offline' | 'ended';
  /** When this state began (ISO). */
  since: string;
  /** For people: why it dropped, or why it ended. */
  reason?: string;
  /** The email of whoever revoked the session (state 'ended', endReason 'revoked'), when known. */
  revokedBy?: string;
}

/** What a re-check (after sleep or a network change) found and did for one session. */
export interface RecheckOutcome {
  sessionId: string;
  resourceName: string;
  accountName: string;
  outcome: 'ok' | 'reconnected' | 'reconnecting' | 'ended';
  reason?: string;
}
export type AccessEndReason = SessionEndReason | 'stopped' | 'error';

export interface AccessStatus {
  sessionId: string;
  projectId: string;
  resourceName: string;
  accountName: string;
  database: string;
  username: string;
  host: '127.0.0.1';
  port: number;
  url: string;
  expiresAt: string;
  state: AccessState;
  /** While ready: 'reconnecting' when the tunnel to Gatehouse dropped and is being re-established. */
  tunnel?: 'connected' | 'reconnecting';
  /** The honest connection state, once started. */
  connection?: ConnectionState;
  /** The duration asked for at start, for Access again. */
  duration?: string | number;
  endReason?: AccessEndReason;
  error?: SerializedError;
  connections: number;
  statements: number;
  bytesIn: number;
  bytesOut: number;
}

/** The tunnel of a ready session dropped ('lost') or is back ('reconnected'), for people to read. */
export interface TunnelNotice {
  sessionId: string;
  state: 'lost' | 'reconnected';
  /** Reconnect attempts so far (0 when just lost). */
  attempt: number;
  /** Why it dropped or why the last attempt failed. */
  reason?: string;
}
