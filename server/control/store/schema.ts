/** Table types for kysely. Column names are snake_case as stored; repositories map to camelCase. */
import type { ColumnType } from 'kysely';
import type { AccessControlTables, ProjectRole } from './access-schema.ts';
import type { AuthLifecycleTables } from './auth-lifecycle-schema.ts';
import type { MfaTables } from './mfa-audit-schema.ts';
import type { ClusterTables } from './cluster-schema.ts';
import type { SessionKind, WebAccessTables } from './web-access-schema.ts';

export type { SessionKind };

/** timestamptz: read as Date, written as Date (or left to the default). */
type Timestamp = ColumnType<Date, Date | undefined, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;
/** int8: node-postgres reads it as a string, PGlite as a number; repositories call Number(). */
type Int8 = ColumnType<string | number, number, number>;
type Json<T> = ColumnType<T, string, string>;

// Defined with the access-control tables (no import cycle); re-exported for the repositories.
export type { ProjectRole };
export type SessionStatus = 'active' | 'ended' | 'revoked' | 'expired';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_admin: boolean;
  disabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  expires_at: Date;
  created_at: Timestamp;
  /** Set when the token was used (rotated); its family's end is `auth_sessions.revoked_at`. */
  revoked_at: NullableTimestamp;
  /** The sign-in (auth_sessions row) this token belongs to: its family. */
  session_id: string;
}

export interface ProjectsTable {
  id: string;
  name: string;
  created_at: Timestamp;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: ProjectRole;
  created_at: Timestamp;
}

export interface GatewaysTable {
  id: string;
  project_id: string | null;
  name: string;
  certificate_pem: string | null;
  enrolled_at: NullableTimestamp;
  connected: ColumnType<boolean, boolean | undefined, boolean>;
  last_seen_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface EnrollmentTokensTable {
  id: string;
  gateway_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface ResourceSsl {
  enabled: boolean;
  rejectUnauthorized: boolean;
  ca?: string;
}

export interface ResourcesTable {
  id: string;
  project_id: string;
  gateway_id: string;
  name: string;
  host: string;
  port: number;
  database: string;
  ssl: Json<ResourceSsl>;
  /** The gateway may answer an MD5 password request (migration 0006). */
  allow_md5: ColumnType<boolean, boolean | undefined, boolean>;
  /** The gateway may send the password in clear, over verified TLS only (migration 0006). */
  allow_cleartext: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AccountsTable {
  id: string;
  resource_id: string;
  name: string;
  description: string;
  username: string;
  /** SecretBox-sealed, AAD `account:<id>:password`; NULL once the resource's target changed (re-enter it). */
  password_sealed: string | null;
  require_mfa: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  project_id: string;
  user_id: string;
  user_email: string;
  resource_id: string;
  resource_name: string;
  database: string;
  account_id: string;
  account_name: string;
  username: string;
  gateway_id: string;
  /** 'proxy' (desktop app, CLI) or 'web' (Web Access); migration 0010. */
  kind: ColumnType<SessionKind, SessionKind | undefined, never>;
  status: SessionStatus;
  created_at: Timestamp;
  expires_at: Date;
  ended_at: NullableTimestamp;
}

export interface SessionEventsTable {
  id: ColumnType<string | number, never, never>;
  gateway_id: string;
  seq: Int8;
  session_id: string;
  connection_id: string;
  type: string;
  at: Date;
  data: Json<Record<string, unknown>>;
}

export interface AuditEventsTable {
  /** Taken from the sequence inside the append transaction, so it is part of the hash. */
  id: ColumnType<string | number, number, never>;
  seq: Int8;
  at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  target_name: string | null;
  project_id: string | null;
  source_address: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface GatewayLinkChallengesTable {
  nonce_hash: string;
  gateway_id: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: Timestamp;
}

export interface Database extends AccessControlTables, MfaTables, AuthLifecycleTables, ClusterTables, WebAccessTables {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  gateways: GatewaysTable;
  enrollment_tokens: EnrollmentTokensTable;
  resources: ResourcesTable;
  accounts: AccountsTable;
  sessions: SessionsTable;
  session_events: SessionEventsTable;
  audit_events: AuditEventsTable;
  settings: SettingsTable;
  gateway_link_challenges: GatewayLinkChallengesTable;
}
