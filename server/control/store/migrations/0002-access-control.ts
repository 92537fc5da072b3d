/**
 * Migration for users, invitations, groups, policies, approvals and access requests
 * (docs/access-control.md). Registered in migrations/index.ts; never edit once shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const accessControlMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const now = sql`now()`;
    await db.schema
      .alterTable('users')
      .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();

    await db.schema
      .createTable('invitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.check(sql`role in ('admin', 'member', 'auditor')`))
      .addColumn('code_hash', 'text', (c) => c.notNull().unique())
      .addColumn('invited_by', 'text')
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('used_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();

    await db.schema
      .createTable('groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addUniqueConstraint('groups_project_name_unique', ['project_id', 'name'])
      .execute();

    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
      .execute();

    // Subjects and accounts as JSON id lists: policies are read per project and evaluated in code.
    await db.schema
      .createTable('policies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('user_ids', 'jsonb', (c) => c.notNull())
      .addColumn('group_ids', 'jsonb', (c) => c.notNull())
      .addColumn('account_ids', 'jsonb', (c) => c.notNull())
      .addColumn('max_duration_seconds', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addUniqueConstraint('policies_project_name_unique', ['project_id', 'name'])
      .execute();

    await db.schema
      .createTable('account_approval_rules')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
      .addColumn('approver_user_ids', 'jsonb', (c) => c.notNull())
      .addColumn('approver_group_ids', 'jsonb', (c) => c.notNull())
      .addColumn('required_approvals', 'integer', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('access_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('user_email', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('resource_name', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('account_name', 'text', (c) => c.notNull())
      .addColumn('duration_seconds', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'denied', 'expired')`))
      .addColumn('required_approvals', 'integer', (c) => c.notNull())
      .addColumn('approvals', 'jsonb', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('approved_at', 'timestamptz')
      .addColumn('window_ends_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('access_requests_status_idx').on('access_requests').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('access_requests_project_idx').on('access_requests').columns(['project_id', 'created_at']).execute();
  },
};
