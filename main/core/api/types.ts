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

export interface Me {
  user: User;
  projects: { id: string; name: string; role: string }[];
}

export interface AccessibleAccount {
  id: string;
  name: string;
  description?: string | null;
  username: string;
  requireMfa: boolean;
  resource: { id: string; name: string; database: string };
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
}

export interface CreateSessionResult {
  session: Session;
  certificatePem: string;
  caCertificatePem: string;
  gatewayId: string;
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
