/** Table types for sign-in sessions (token families), see migrations/0005-auth-lifecycle.ts. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | undefined, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;

/**
 * One row per sign-in: the family of its refresh tokens and the `sid` of its access tokens.
 * Revoking the row (logout, refresh-token reuse, admin) ends every token of the family.
 */
export interface AuthSessionsTable {
  id: string;
  user_id: string;
  /** The second factor that completed this sign-in ('totp', 'email', 'recovery'); null: password only. */
  mfa_method: string | null;
  source_address: string | null;
  created_at: Timestamp;
  revoked_at: NullableTimestamp;
  /** 'logout' | 'refresh_reuse' | … */
  revoked_reason: string | null;
}

export interface AuthLifecycleTables {
  auth_sessions: AuthSessionsTable;
}
