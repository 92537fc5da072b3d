/**
 * Sign-in sessions and their refresh tokens. A sign-in starts a session (`auth_sessions`): the
 * family of every refresh token rotated from it and the `sid` of its access tokens. Refresh
 * tokens are stored as SHA-256 hashes only and work once; presenting one that was already used
 * is a reuse (a stolen copy or a replay) and ends the whole family.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type ConsumeResult =
  | { state: 'ok'; userId: string; sessionId: string; mfaMethod: string | null }
  /** An already-used token came back; `familyWasLive` is whether this call ended the family. */
  | { state: 'reused'; userId: string; sessionId: string; familyWasLive: boolean }
  /** An unused token of a family that was ended (logout, reuse, user disabled). */
  | { state: 'ended'; userId: string }
  | { state: 'invalid' };

/** What authenticating an access token needs, read in one query. */
export interface Principal {
  user: { id: string; email: string; name: string; isAdmin: boolean; disabled: boolean; createdAt: Date };
  /** undefined when the token's session does not exist or belongs to someone else. */
  session?: { revoked: boolean; mfaMethod: string | null };
  /** The organization's enforced MFA setting as stored ('none' when unset). */
  enforce: string;
}

export type RefreshTokensRepo = ReturnType<typeof createRefreshTokensRepo>;

/** The settings key of the organization's enforced MFA (store/mfa.ts writes it). */
export const MFA_ENFORCE_SETTING = 'mfa.enforce';

export function createRefreshTokensRepo(db: Kysely<Database>) {
  return {
    /** Starts a sign-in session; returns its id (the token family). */
    async startSession(input: { userId: string; mfaMethod: string | null; sourceAddress: string | null }): Promise<string> {
      const id = randomUUID();
      await db.insertInto('auth_sessions').values({ id, user_id: input.userId, mfa_method: input.mfaMethod, source_address: input.sourceAddress }).execute();
      return id;
    },

    async create(input: { userId: string; sessionId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
      await db
        .insertInto('refresh_tokens')
        .values({ id: randomUUID(), user_id: input.userId, session_id: input.sessionId, token_hash: input.tokenHash, expires_at: input.expiresAt })
        .execute();
    },

    /**
     * Atomically marks a live token of a live family used. A token that was already used ends
     * its family ('reused'); an unused one of an ended family is 'ended'; unknown or expired
     * tokens are 'invalid'.
     */
    async consume(tokenHash: string, now: Date): Promise<ConsumeResult> {
      const used = await sql<{ user_id: string; session_id: string; mfa_method: string | null }>`
        update refresh_tokens as rt set revoked_at = ${now}
        from auth_sessions as s
        where rt.token_hash = ${tokenHash} and rt.revoked_at is null and rt.expires_at > ${now}
          and s.id = rt.session_id and s.revoked_at is null
        returning rt.user_id, rt.session_id, s.mfa_method`.execute(db);
      const row = used.rows[0];
      if (row) return { state: 'ok', userId: row.user_id, sessionId: row.session_id, mfaMethod: row.mfa_method };
      const known = await db
        .selectFrom('refresh_tokens')
        .select(['user_id', 'session_id', 'revoked_at', 'expires_at'])
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      if (!known) return { state: 'invalid' };
      if (known.revoked_at === null) return known.expires_at > now ? { state: 'ended', userId: known.user_id } : { state: 'invalid' };
      const familyWasLive = await this.revokeSession(known.session_id, 'refresh_reuse', now);
      return { state: 'reused', userId: known.user_id, sessionId: known.session_id, familyWasLive };
    },

    /**
     * Ends a sign-in session, and so every refresh and access token of it (both are checked
     * against the session); true when it was live until now. The tokens' own `revoked_at` stays
     * "used", so only a token that was really used counts as reused later.
     */
    async revokeSession(sessionId: string, reason: string, now: Date): Promise<boolean> {
      const ended = await db
        .updateTable('auth_sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(ended.numUpdatedRows) > 0;
    },

    /** Ends every live sign-in of a user (disabled): re-enabling them does not revive old tokens. */
    async revokeAllOf(userId: string, reason: string, now: Date): Promise<number> {
      const ended = await db
        .updateTable('auth_sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(ended.numUpdatedRows);
    },

    /** The session a refresh token of this user belongs to (logout by refresh token). */
    async sessionOf(tokenHash: string, userId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('refresh_tokens')
        .select('session_id')
        .where('token_hash', '=', tokenHash)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row?.session_id;
    },

    /** The organization's enforced MFA setting as stored ('none' when unset). */
    async mfaEnforcement(): Promise<string> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', MFA_ENFORCE_SETTING).executeTakeFirst();
      return row?.value ?? 'none';
    },

    /** The user, the token's session and the enforced MFA setting, in one round trip (every authenticated request). */
    async principal(userId: string, sessionId: string): Promise<Principal | undefined> {
      const result = await sql<{
        id: string;
        email: string;
        name: string;
        is_admin: boolean;
        disabled: boolean;
        created_at: Date;
        session_user: string | null;
        session_revoked_at: Date | null;
        mfa_method: string | null;
        enforce: string | null;
      }>`
        select u.id, u.email, u.name, u.is_admin, u.disabled, u.created_at,
               s.user_id as session_user, s.revoked_at as session_revoked_at, s.mfa_method,
               (select value from settings where key = ${MFA_ENFORCE_SETTING}) as enforce
        from users u left join auth_sessions s on s.id = ${sessionId}
        where u.id = ${userId}`.execute(db);
      const row = result.rows[0];
      if (!row) return undefined;
      return {
        user: { id: row.id, email: row.email, name: row.name, isAdmin: row.is_admin, disabled: row.disabled, createdAt: new Date(row.created_at) },
        session: row.session_user === row.id ? { revoked: row.session_revoked_at !== null, mfaMethod: row.mfa_method } : undefined,
        enforce: row.enforce ?? 'none',
      };
    },
  };
}
