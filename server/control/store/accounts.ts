import type { Kysely, Selectable } from 'kysely';
import type { AccountsTable, Database } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

/** An account as the store holds it: the password only in sealed form. */
export interface Account {
  id: string;
  resourceId: string;
  name: string;
  description: string;
  username: string;
  /** Null once the resource's target changed: the password must be entered again (issue 10 item 2). */
  passwordSealed: string | null;
  requireMfa: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface AccountWithResource extends Account {
  resource: { id: string; name: string; database: string; projectId: string };
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;

/** The AAD that binds an account's sealed password to its row. */
export function accountPasswordAad(accountId: string): string {
  return `account:${accountId}:password`;
}

export function createAccountsRepo(db: Kysely<Database>) {
  return {
    /** `id` is chosen by the caller because the sealed password is bound to it. */
    async create(input: Omit<Account, 'createdAt' | 'updatedAt'>): Promise<Account> {
      const row = await conflictOnDuplicate(`an account named "${input.name}" already exists on this resource`, () =>
        db
          .insertInto('accounts')
          .values({
            id: input.id,
            resource_id: input.resourceId,
            name: input.name,
            description: input.description,
            username: input.username,
            password_sealed: input.passwordSealed,
            require_mfa: input.requireMfa,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return toAccount(row);
    },
    async update(
      id: string,
      patch: Partial<Pick<Account, 'name' | 'description' | 'username' | 'passwordSealed' | 'requireMfa'>>,
      now: Date,
    ): Promise<Account | undefined> {
      const row = await conflictOnDuplicate(`an account named "${patch.name}" already exists on this resource`, () =>
        db
          .updateTable('accounts')
          .set({
            updated_at: now,
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.description !== undefined && { description: patch.description }),
            ...(patch.username !== undefined && { username: patch.username }),
            ...(patch.passwordSealed !== undefined && { password_sealed: patch.passwordSealed }),
            ...(patch.requireMfa !== undefined && { require_mfa: patch.requireMfa }),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst(),
      );
      return row && toAccount(row);
    },
    /** Forgets every stored password of a resource's accounts (its target changed); returns the accounts affected. */
    async clearPasswordsOfResource(resourceId: string, now: Date): Promise<string[]> {
      const rows = await db
        .updateTable('accounts')
        .set({ password_sealed: null, updated_at: now })
        .where('resource_id', '=', resourceId)
        .where('password_sealed', 'is not', null)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async findById(id: string): Promise<AccountWithResource | undefined> {
      const row = await withResource(db).where('a.id', '=', id).executeTakeFirst();
      return row && toAccountWithResource(row);
    },
    /** By id or name on one resource. */
    async findOnResource(resourceId: string, idOrName: string): Promise<Account | undefined> {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where('resource_id', '=', resourceId)
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
        .orderBy((eb) => eb.case().when('id', '=', idOrName).then(0).else(1).end())
        .executeTakeFirst();
      return row && toAccount(row);
    },
    async listByResource(resourceId: string): Promise<Account[]> {
      const rows = await db.selectFrom('accounts').selectAll().where('resource_id', '=', resourceId).orderBy('name').execute();
      return rows.map(toAccount);
    },
    async listByProject(projectId: string): Promise<AccountWithResource[]> {
      const rows = await withResource(db).where('r.project_id', '=', projectId).orderBy('r.name').orderBy('a.name').execute();
      return rows.map(toAccountWithResource);
    },
  };
}

function withResource(db: Kysely<Database>) {
  return db
    .selectFrom('accounts as a')
    .innerJoin('resources as r', 'r.id', 'a.resource_id')
    .selectAll('a')
    .select(['r.name as resource_name', 'r.database as resource_database', 'r.project_id as resource_project_id']);
}

function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    resourceId: row.resource_id,
    name: row.name,
    description: row.description,
    username: row.username,
    passwordSealed: row.password_sealed,
    requireMfa: row.require_mfa,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAccountWithResource(
  row: Selectable<AccountsTable> & { resource_name: string; resource_database: string; resource_project_id: string },
): AccountWithResource {
  return {
    ...toAccount(row),
    resource: { id: row.resource_id, name: row.resource_name, database: row.resource_database, projectId: row.resource_project_id },
  };
}
