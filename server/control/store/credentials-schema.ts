/** Table types of migration 0009 (migrations/0009-credential-rotation.ts). */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | undefined, Date>;
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface ResourceRotationAccountsTable {
  resource_id: string;
  username: string;
  /** SecretBox-sealed, AAD `resource:<id>:rotation-password`. */
  password_sealed: string;
  updated_at: Timestamp;
}

export type RotationResult = 'ok' | 'failed';
/** broken: the database refused the stored password; unreachable: the check could not get as far as a login. */
export type HealthStatus = 'unknown' | 'ok' | 'broken' | 'unreachable';

export interface AccountCredentialsTable {
  account_id: string;
  rotation_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  rotation_interval_days: ColumnType<number, number | undefined, number>;
  /** Sealed like accounts.password_sealed (AAD `account:<id>:password`); set from step 2 until the new password is current. */
  pending_password_sealed: Nullable<string>;
  pending_since: Nullable<Date>;
  last_rotated_at: Nullable<Date>;
  next_rotation_at: Nullable<Date>;
  last_result: Nullable<RotationResult>;
  last_attempt_at: Nullable<Date>;
  last_error_code: Nullable<string>;
  last_error: Nullable<string>;
  failures: ColumnType<number, number | undefined, number>;
  lease_owner: Nullable<string>;
  lease_until: Nullable<Date>;
  health_status: ColumnType<HealthStatus, HealthStatus | undefined, HealthStatus>;
  health_code: Nullable<string>;
  health_error: Nullable<string>;
  health_checked_at: Nullable<Date>;
  health_next_at: Nullable<Date>;
}

export interface CredentialTables {
  resource_rotation_accounts: ResourceRotationAccountsTable;
  account_credentials: AccountCredentialsTable;
}
