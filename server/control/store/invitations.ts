import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { InvitationsTable } from './access-schema.ts';
import type { Database, ProjectRole } from './schema.ts';

export interface Invitation {
  id: string;
  email: string;
  name: string | null;
  projectId: string | null;
  role: ProjectRole | null;
  invitedBy: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
}

export type InvitationsRepo = ReturnType<typeof createInvitationsRepo>;

export function createInvitationsRepo(db: Kysely<Database>) {
  return {
    async create(input: {
      email: string;
      name: string | null;
      projectId: string | null;
      role: ProjectRole | null;
      codeHash: string;
      invitedBy: string;
      expiresAt: Date;
    }): Promise<Invitation> {
      const row = await db
        .insertInto('invitations')
        .values({
          id: randomUUID(),
          email: input.email,
          name: input.name,
          project_id: input.projectId,
          role: input.role,
          code_hash: input.codeHash,
          invited_by: input.invitedBy,
          expires_at: input.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toInvitation(row);
    },
    /** The unused, unexpired invitation with this code, without using it. */
    async findUsable(codeHash: string, now: Date): Promise<Invitation | undefined> {
      const row = await db
        .selectFrom('invitations')
        .selectAll()
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row && toInvitation(row);
    },
    /** Marks an unused, unexpired invitation used; undefined when it is unknown, used or expired. */
    async consume(codeHash: string, now: Date): Promise<Invitation | undefined> {
      const row = await db
        .updateTable('invitations')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      return row && toInvitation(row);
    },
  };
}

function toInvitation(row: Selectable<InvitationsTable>): Invitation {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    projectId: row.project_id,
    role: row.role,
    invitedBy: row.invited_by,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    createdAt: row.created_at,
  };
}
