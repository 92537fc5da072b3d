/** Store access for MFA: TOTP state, recovery codes, email codes and the organization setting. */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { MfaCodePurpose } from './mfa-audit-schema.ts';
import { MFA_ENFORCE_SETTING } from './refresh-tokens.ts';
import type { Database } from './schema.ts';

export type MfaEnforcement = 'none' | 'totp' | 'email';
const ENFORCE_KEY = MFA_ENFORCE_SETTING;

export interface TotpState {
  secretSealed: string | null;
  pendingSealed: string | null;
  enabledAt: Date | null;
}

export type MfaRepo = ReturnType<typeof createMfaRepo>;

export function createMfaRepo(db: Kysely<Database>) {
  return {
    async totp(userId: string): Promise<TotpState> {
      const row = await db.selectFrom('user_mfa').selectAll().where('user_id', '=', userId).executeTakeFirst();
      return { secretSealed: row?.totp_secret_sealed ?? null, pendingSealed: row?.totp_pending_sealed ?? null, enabledAt: row?.totp_enabled_at ?? null };
    },
    async totpEnrolledUserIds(userIds: string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db.selectFrom('user_mfa').select('user_id').where('user_id', 'in', userIds).where('totp_secret_sealed', 'is not', null).execute();
      return new Set(rows.map((r) => r.user_id));
    },
    async setPending(userId: string, sealed: string): Promise<void> {
      await db
        .insertInto('user_mfa')
        .values({ user_id: userId, totp_pending_sealed: sealed })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ totp_pending_sealed: sealed, updated_at: new Date() }))
        .execute();
    },
    /** Makes the pending secret the active one; `step` is the step of the confirming code. */
    async activate(userId: string, sealed: string, step: number, recoveryHashes: string[]): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const now = new Date();
        await trx
          .updateTable('user_mfa')
          .set({ totp_secret_sealed: sealed, totp_pending_sealed: null, totp_enabled_at: now, totp_last_step: step, updated_at: now })
          .where('user_id', '=', userId)
          .execute();
        await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
        await trx
          .insertInto('mfa_recovery_codes')
          .values(recoveryHashes.map((hash) => ({ id: randomUUID(), user_id: userId, code_hash: hash })))
          .execute();
      });
    },
    async disable(userId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('user_mfa').where('user_id', '=', userId).execute();
        await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      });
    },
    async signInTokenUsed(jti: string): Promise<boolean> {
      return (await db.selectFrom('mfa_token_uses').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
    },
    /** Records a sign-in's mfaToken as used; false when it was used already (tokens work once). */
    async claimSignInToken(jti: string, expiresAt: Date, now = new Date()): Promise<boolean> {
      await db.deleteFrom('mfa_token_uses').where('expires_at', '<', now).execute();
      const row = await db
        .insertInto('mfa_token_uses')
        .values({ jti, expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .returning('jti')
        .executeTakeFirst();
      return row !== undefined;
    },
    /** Records `step` as used unless it (or a later one) was used already: a TOTP code works once. */
    async claimTotpStep(userId: string, step: number): Promise<boolean> {
      const row = await db
        .updateTable('user_mfa')
        .set({ totp_last_step: step })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .returning('user_id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async useRecoveryCode(userId: string, hash: string): Promise<boolean> {
      const row = await db
        .updateTable('mfa_recovery_codes')
        .set({ used_at: new Date() })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async recoveryCodesLeft(userId: string): Promise<number> {
      const row = await db
        .selectFrom('mfa_recovery_codes')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async addEmailCode(userId: string, purpose: MfaCodePurpose, hash: string, expiresAt: Date): Promise<void> {
      await db.insertInto('mfa_email_codes').values({ id: randomUUID(), user_id: userId, purpose, code_hash: hash, expires_at: expiresAt }).execute();
    },
    async useEmailCode(userId: string, purpose: MfaCodePurpose, hash: string, now = new Date()): Promise<boolean> {
      const row = await db
        .updateTable('mfa_email_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('id')
        .executeTakeFirst();
      if (row) await db.deleteFrom('mfa_email_codes').where('user_id', '=', userId).where('expires_at', '<', now).execute();
      return row !== undefined;
    },
    async enforcement(): Promise<MfaEnforcement> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', ENFORCE_KEY).executeTakeFirst();
      return row?.value === 'totp' || row?.value === 'email' ? row.value : 'none';
    },
    async setEnforcement(value: MfaEnforcement): Promise<void> {
      await db
        .insertInto('settings')
        .values({ key: ENFORCE_KEY, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: sql`now()` }))
        .execute();
    },
  };
}
