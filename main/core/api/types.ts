import type { SessionEvent } from '../../../proxy-core/src/recorder/events.ts';

export type { SessionEvent };

export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ISO). */
  expiresAt: string;
}

export interface LoginResult extends Tokens {
  user: User;
}

export type MfaMethod = 'totp' | 'email' | 'recovery';

/** `POST /auth/login` when a second factor is needed: answer with `verifyMfa`. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: MfaMethod[];
  /**
   * The organization enforces TOTP and this user has none: the token only works for
   * `enrollTotpWithChallenge` / `confirmTotpWithChallenge`, which answer the tokens.
   */
  mfaEnrollmentRequired?: boolean;
}

export type LoginOutcome = LoginResult | MfaChallenge;

export function isMfaChallenge(r: LoginOutcome): r is MfaChallenge {
  return (r as MfaChallenge).mfaRequired === true;
}

/** A fresh MFA proof sent with `POST /sessions` for accounts that require MFA. */
export interface MfaProof {
  method: MfaMethod;
  code: string;
}

export interface TotpEnrollment {
  secret: string;
  otpauthUrl: string;
  qrDataUrl: string;
}

export type AccessRequestStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface AccessRequestDecision {
  userId: string;
  email: string;
  decision: 'approve' | 'deny' | 'approved' | 'denied';
  comment?: string | null;
  at: string;
}

/** An access request (docs/access-control.md). */
export interface AccessRequestInfo {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resource: { id: string; name: string };
  account: { id: string; name: string };
  durationSeconds: number;
  reason: string;
  status: AccessRequestStatus;
  approvals: AccessRequestDecision[];
  requiredApprovals: number;
  createdAt?: string;
  approvedAt?: string | null;
  windowEndsAt?: string | null;
}

export interface NewAccessRequest {
  projectId: string;
  /** Name or id. */
  resource: string;
  /** Name or id. */
  account: string;
  /** '1h', '30m' or seconds. */
  duration: string | number;
  reason: string;
}

export interface AccessRequestQuery {
  projectId?: string;
  status?: AccessRequestStatus;
  /** Only the caller's own requests. */
  mine?: boolean;
}

export interface Me {
  user: User;
  projects: { id: string; name: string; role: string }[];
}

export interface ProjectInfo {
  id: string;
  name: string;
  /** 'admin' | 'member' | 'auditor' */
  role: string;
  createdAt?: string;
}

export interface AccessibleAccount {
  id: string;
  name: string;
  description?: string | null;
  username: string;
  requireMfa: boolean;
  /** Sessions need an approved access request. */
  requireApproval?: boolean;
  /** The longest session the caller's policies allow. */
  maxDurationSeconds?: number | null;
  resource: { id: string; name: string; database: string };
  /** The resource's gateway: linked to the control plane or not (older servers omit it). */
  gateway?: { connected: boolean; lastSeenAt: string | null };
}

/** `GET /me/mfa`: the caller's second factors. */
export interface MfaStatus {
  totp: boolean;
  recoveryCodesLeft: number;
  enforce: 'none' | 'totp' | 'email';
  emailAvailable: boolean;
  methods: MfaMethod[];
}

export type SessionStatus = 'active' | 'ended' | 'revoked' | 'expired';

export interface Session {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resource: { id: string; name: string; database: string };
  account: { id: string; name: string; username: string };
  status: SessionStatus;
  createdAt: string;
  expiresAt: string;
  endedAt?: string | null;
  /** Who revoked it (status 'revoked'), when known. */
  revokedBy?: string | null;
}

export interface CreateSessionRequest {
  projectId: string;
  /** Name or id. */
  resource: string;
  /** Name or id. */
  account: string;
  /** '1h', '30m' or seconds. */
  duration: string | number;
  publicKeyPem: string;
  /** A fresh MFA proof, for accounts that require MFA. */
  mfa?: MfaProof;
  /** An approved access request whose window is open, for accounts that require approval. */
  accessRequestId?: string;
}

export interface CreateSessionResult {
  session: Session;
  certificatePem: string;
  caCertificatePem: string;
  gatewayId: string;
}

export interface ExtendSessionRequest {
  /** How much longer: '30m', '1h' or seconds, added to the current expiry. */
  duration: string | number;
  /** The session's public key again: the new certificate is issued for it. */
  publicKeyPem: string;
  /** A fresh second factor, for accounts that require MFA. */
  mfa?: MfaProof;
}

export interface ExtendSessionResult {
  session: Session;
  certificatePem: string;
}

export interface SessionQuery {
  projectId?: string;
  status?: SessionStatus;
}

export interface SessionLogsPage {
  events: SessionEvent[];
  next?: number;
}

/** Where the client keeps its tokens for one domain. */
export interface TokenProvider {
  get(): Promise<Tokens | undefined>;
  set(tokens: Tokens | undefined): Promise<void>;
}
