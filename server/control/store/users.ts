import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  /** Disabled users are refused on every request and at sign-in. */
  disabled: boolean;
  createdAt: Date;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export type UsersRepo = ReturnType<typeof createUsersRepo>;

export function createUsersRepo(db: Kysely<Database>) {
  return {
    async create(input: { email: string; name: string; passwordHash: string; isAdmin: boolean }): Promise<User> {
      const row = await conflictOnDuplicate(`a user with email ${input.email} already exists`, () =>
        db
          .insertInto('users')
          .values({ id: randomUUID(), email: normalizeEmail(input.email), name: input.name, password_hash: input.passwordHash, is_admin: input.isAdmin })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return toUser(row);
    },
    async findByEmail(email: string): Promise<UserWithHash | undefined> {
      const row = await db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
      return row && { ...toUser(row), passwordHash: row.password_hash };
    },
    async findById(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async count(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toUser(row: Selectable<UsersTable>): User {
  return { id: row.id, email: row.email, name: row.name, isAdmin: row.is_admin, disabled: row.disabled, createdAt: row.created_at };
}
