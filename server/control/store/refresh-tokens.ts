import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type RefreshTokensRepo = ReturnType<typeof createRefreshTokensRepo>;

/** Refresh tokens are stored as SHA-256 hashes only. */
export function createRefreshTokensRepo(db: Kysely<Database>) {
  return {
    async create(input: { userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
      await db.insertInto('refresh_tokens').values({ id: randomUUID(), user_id: input.userId, token_hash: input.tokenHash, expires_at: input.expiresAt }).execute();
    },
    /**
     * Atomically marks a live token used and returns its owner; undefined when the token is
     * unknown, expired or already used (so a token works exactly once).
     */
    async consume(tokenHash: string, now: Date): Promise<{ userId: string } | undefined> {
      const row = await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: now })
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('user_id')
        .executeTakeFirst();
      return row && { userId: row.user_id };
    },
    async revoke(tokenHash: string, userId: string, now: Date): Promise<void> {
      await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('token_hash', '=', tokenHash).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    },
  };
}
