import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, GatewaysTable } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

export interface Gateway {
  id: string;
  projectId: string | null;
  name: string;
  certificatePem: string | null;
  enrolledAt: Date | null;
  connected: boolean;
  lastSeenAt: Date | null;
  createdAt: Date;
}

export type GatewaysRepo = ReturnType<typeof createGatewaysRepo>;

export function createGatewaysRepo(db: Kysely<Database>) {
  return {
    /** Creates the gateway and its one-time enrollment token (stored hashed) together. */
    async create(input: { name: string; projectId: string | null; tokenHash: string; tokenExpiresAt: Date }): Promise<Gateway> {
      const id = randomUUID();
      const row = await conflictOnDuplicate(`a gateway named "${input.name}" already exists`, () =>
        db.transaction().execute(async (trx) => {
          const gateway = await trx
            .insertInto('gateways')
            .values({ id, name: input.name, project_id: input.projectId })
            .returningAll()
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('enrollment_tokens')
            .values({ id: randomUUID(), gateway_id: id, token_hash: input.tokenHash, expires_at: input.tokenExpiresAt })
            .execute();
          return gateway;
        }),
      );
      return toGateway(row);
    },
    /** Marks an unused, unexpired token used; returns its gateway id. Single use, atomic. */
    async consumeEnrollmentToken(tokenHash: string, now: Date): Promise<string | undefined> {
      const row = await db
        .updateTable('enrollment_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('gateway_id')
        .executeTakeFirst();
      return row?.gateway_id;
    },
    async setCertificate(id: string, certificatePem: string, now: Date): Promise<void> {
      await db.updateTable('gateways').set({ certificate_pem: certificatePem, enrolled_at: now }).where('id', '=', id).execute();
    },
    async setConnected(id: string, connected: boolean, now: Date): Promise<void> {
      await db.updateTable('gateways').set({ connected, last_seen_at: now }).where('id', '=', id).execute();
    },
    async findById(id: string): Promise<Gateway | undefined> {
      const row = await db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toGateway(row);
    },
    /** All gateways, or those of the given projects plus instance-wide ones. */
    async list(filter?: { projectIds: string[] }): Promise<Gateway[]> {
      let query = db.selectFrom('gateways').selectAll().orderBy('name');
      if (filter) {
        const ids = filter.projectIds;
        query = query.where((eb) => (ids.length > 0 ? eb.or([eb('project_id', 'is', null), eb('project_id', 'in', ids)]) : eb('project_id', 'is', null)));
      }
      return (await query.execute()).map(toGateway);
    },
  };
}

function toGateway(row: Selectable<GatewaysTable>): Gateway {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    certificatePem: row.certificate_pem,
    enrolledAt: row.enrolled_at,
    connected: row.connected,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}
