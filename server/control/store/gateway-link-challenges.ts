import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Outstanding challenges one gateway may hold at once; older ones are dropped. */
const MAX_OUTSTANDING_PER_GATEWAY = 16;

export type GatewayLinkChallengesRepo = ReturnType<typeof createGatewayLinkChallengesRepo>;

/** Single-use link nonces (stored hashed), shared by every replica on this store. */
export function createGatewayLinkChallengesRepo(db: Kysely<Database>) {
  return {
    /** Stores a new challenge; drops expired ones and this gateway's oldest beyond the cap. */
    async save(nonceHash: string, gatewayId: string, expiresAt: Date, now: Date): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('gateway_link_challenges').where('expires_at', '<=', now).execute();
        await trx
          .insertInto('gateway_link_challenges')
          .values({ nonce_hash: nonceHash, gateway_id: gatewayId, expires_at: expiresAt, created_at: now })
          .execute();
        const keep = trx
          .selectFrom('gateway_link_challenges')
          .select('nonce_hash')
          .where('gateway_id', '=', gatewayId)
          .orderBy('created_at', 'desc')
          .limit(MAX_OUTSTANDING_PER_GATEWAY);
        await trx.deleteFrom('gateway_link_challenges').where('gateway_id', '=', gatewayId).where('nonce_hash', 'not in', keep).execute();
      });
    },
    /** Deletes the challenge if it is this gateway's and unexpired; true only for the first caller. */
    async consume(nonceHash: string, gatewayId: string, now: Date): Promise<boolean> {
      const row = await db
        .deleteFrom('gateway_link_challenges')
        .where('nonce_hash', '=', nonceHash)
        .where('gateway_id', '=', gatewayId)
        .where('expires_at', '>', now)
        .returning('nonce_hash')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
