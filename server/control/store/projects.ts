import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, ProjectRole } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';
import { likeContains, type TextCursor } from './keyset.ts';

export interface Project {
  id: string;
  name: string;
  createdAt: Date;
}

export interface ProjectMember {
  userId: string;
  email: string;
  name: string;
  role: ProjectRole;
}

/** Filters and position of a page of project members, sorted by email. */
export interface MemberPageFilter {
  /** Part of the email or name (case-insensitive). */
  q?: string;
  role?: ProjectRole;
  disabled?: boolean;
  after?: TextCursor;
  limit: number;
}

export type ProjectsRepo = ReturnType<typeof createProjectsRepo>;

export function createProjectsRepo(db: Kysely<Database>) {
  return {
    async create(name: string): Promise<Project> {
      const row = await conflictOnDuplicate(`a project named "${name}" already exists`, () =>
        db.insertInto('projects').values({ id: randomUUID(), name }).returningAll().executeTakeFirstOrThrow(),
      );
      return { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async findById(id: string): Promise<Project | undefined> {
      const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async list(): Promise<Project[]> {
      const rows = await db.selectFrom('projects').selectAll().orderBy('name').execute();
      return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
    },
    /** The caller's projects with their role. */
    async listForUser(userId: string): Promise<(Project & { role: ProjectRole })[]> {
      const rows = await db
        .selectFrom('project_members as m')
        .innerJoin('projects as p', 'p.id', 'm.project_id')
        .select(['p.id', 'p.name', 'p.created_at', 'm.role'])
        .where('m.user_id', '=', userId)
        .orderBy('p.name')
        .execute();
      return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at, role: row.role }));
    },
    /** Adds or changes a member's role. */
    async setMember(projectId: string, userId: string, role: ProjectRole): Promise<void> {
      await db
        .insertInto('project_members')
        .values({ project_id: projectId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['project_id', 'user_id']).doUpdateSet({ role }))
        .execute();
    },
    async roleOf(projectId: string, userId: string): Promise<ProjectRole | undefined> {
      const row = await db.selectFrom('project_members').select('role').where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
      return row?.role;
    },
    /** Keyset page of a project's members by email (unique), with their account state. */
    async membersPage(projectId: string, filter: MemberPageFilter): Promise<(ProjectMember & { disabled: boolean })[]> {
      let query = db
        .selectFrom('project_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.email', 'u.name', 'u.disabled', 'm.role'])
        .where('m.project_id', '=', projectId)
        .orderBy('u.email')
        .limit(filter.limit);
      const { q, after } = filter;
      if (q !== undefined) query = query.where((eb) => eb.or([eb('u.email', 'ilike', likeContains(q)), eb('u.name', 'ilike', likeContains(q))]));
      if (filter.role !== undefined) query = query.where('m.role', '=', filter.role);
      if (filter.disabled !== undefined) query = query.where('u.disabled', '=', filter.disabled);
      if (after !== undefined) query = query.where('u.email', '>', after.key);
      const rows = await query.execute();
      return rows.map((row) => ({ userId: row.id, email: row.email, name: row.name, role: row.role, disabled: row.disabled }));
    },
  };
}
