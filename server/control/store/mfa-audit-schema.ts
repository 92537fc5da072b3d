/** Table types for MFA, sign-in throttling (see migrations/0003-mfa-audit.ts). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | undefined, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;
type Int8 = ColumnType<string | number, number, number>;

export interface UserMfaTable {
  user_id: string;
  /** SecretBox-sealed base32 secret, AAD `user:<id>:totp`; null until confirmed. */
  totp_secret_sealed: string | null;
  /** Sealed secret of an enrollment not yet confirmed, AAD `user:<id>:totp-pending`. */
  totp_pending_sealed: string | null;
  totp_enabled_at: NullableTimestamp;
  /** The last accepted TOTP time step: a code is accepted once. */
  totp_last_step: ColumnType<string | number | null, number | null | undefined, number | null>;
  updated_at: Timestamp;
}

export interface MfaRecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export type MfaCodePurpose = 'login' | 'access';

export interface MfaEmailCodesTable {
  id: string;
  user_id: string;
  purpose: MfaCodePurpose;
  code_hash: string;
  expires_at: Date;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

/** Failure counters and lockouts, shared by every replica. */
export interface AuthThrottleTable {
  key: string;
  failures: Int8;
  window_started_at: Date;
  locked_until: NullableTimestamp;
}

/** mfaTokens that completed a sign-in (single use). */
export interface MfaTokenUsesTable {
  jti: string;
  expires_at: Date;
  used_at: Generated<Date>;
}

export interface MfaTables {
  mfa_token_uses: MfaTokenUsesTable;
  user_mfa: UserMfaTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  mfa_email_codes: MfaEmailCodesTable;
  auth_throttle: AuthThrottleTable;
}
