import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

export interface Group {
  id: string;
  projectId: string;
  name: string;
  createdAt: Date;
  members: { userId: string; email: string }[];
}

export type GroupsRepo = ReturnType<typeof createGroupsRepo>;

export function createGroupsRepo(db: Kysely<Database>) {
  async function membersOf(groupIds: string[]): Promise<Map<string, { userId: string; email: string }[]>> {
    const byGroup = new Map<string, { userId: string; email: string }[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return byGroup;
    const rows = await db
      .selectFrom('group_members as gm')
      .innerJoin('users as u', 'u.id', 'gm.user_id')
      .select(['gm.group_id', 'u.id', 'u.email'])
      .where('gm.group_id', 'in', groupIds)
      .orderBy('u.email')
      .execute();
    for (const row of rows) byGroup.get(row.group_id)?.push({ userId: row.id, email: row.email });
    return byGroup;
  }

  return {
    async create(projectId: string, name: string): Promise<Group> {
      const row = await conflictOnDuplicate(`a group named "${name}" already exists in this project`, () =>
        db.insertInto('groups').values({ id: randomUUID(), project_id: projectId, name }).returningAll().executeTakeFirstOrThrow(),
      );
      return { id: row.id, projectId: row.project_id, name: row.name, createdAt: row.created_at, members: [] };
    },
    async findById(id: string): Promise<Group | undefined> {
      const row = await db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const members = (await membersOf([row.id])).get(row.id) ?? [];
      return { id: row.id, projectId: row.project_id, name: row.name, createdAt: row.created_at, members };
    },
    async listByProject(projectId: string): Promise<Group[]> {
      const rows = await db.selectFrom('groups').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
      const members = await membersOf(rows.map((r) => r.id));
      return rows.map((row) => ({ id: row.id, projectId: row.project_id, name: row.name, createdAt: row.created_at, members: members.get(row.id) ?? [] }));
    },
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async addMember(groupId: string, userId: string): Promise<void> {
      await db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId })
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .execute();
    },
    async removeMember(groupId: string, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Ids of the groups (in one project) the user belongs to. */
    async groupIdsOf(userId: string, projectId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('group_members as gm')
        .innerJoin('groups as g', 'g.id', 'gm.group_id')
        .select('g.id')
        .where('gm.user_id', '=', userId)
        .where('g.project_id', '=', projectId)
        .execute();
      return rows.map((r) => r.id);
    },
    /** User ids in any of the groups. */
    async userIdsIn(groupIds: string[]): Promise<string[]> {
      if (groupIds.length === 0) return [];
      const rows = await db.selectFrom('group_members').select('user_id').distinct().where('group_id', 'in', groupIds).execute();
      return rows.map((r) => r.user_id);
    },
  };
}
