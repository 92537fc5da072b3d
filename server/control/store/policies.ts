import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AccountApprovalRulesTable, PoliciesTable } from './access-schema.ts';
import type { Database } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

export interface Policy {
  id: string;
  projectId: string;
  name: string;
  userIds: string[];
  groupIds: string[];
  accountIds: string[];
  maxDurationSeconds: number;
  createdAt: Date;
}

export interface ApprovalRule {
  accountId: string;
  approverUserIds: string[];
  approverGroupIds: string[];
  requiredApprovals: number;
}

export type PoliciesRepo = ReturnType<typeof createPoliciesRepo>;

export function createPoliciesRepo(db: Kysely<Database>) {
  return {
    async create(input: Omit<Policy, 'id' | 'createdAt'>): Promise<Policy> {
      const row = await conflictOnDuplicate(`a policy named "${input.name}" already exists in this project`, () =>
        db
          .insertInto('policies')
          .values({
            id: randomUUID(),
            project_id: input.projectId,
            name: input.name,
            user_ids: JSON.stringify(input.userIds),
            group_ids: JSON.stringify(input.groupIds),
            account_ids: JSON.stringify(input.accountIds),
            max_duration_seconds: input.maxDurationSeconds,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return toPolicy(row);
    },
    async findById(id: string): Promise<Policy | undefined> {
      const row = await db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPolicy(row);
    },
    async listByProject(projectId: string): Promise<Policy[]> {
      const rows = await db.selectFrom('policies').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
      return rows.map(toPolicy);
    },
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async approvalRule(accountId: string): Promise<ApprovalRule | undefined> {
      const row = await db.selectFrom('account_approval_rules').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      return row && toRule(row);
    },
    async approvalRules(accountIds: string[]): Promise<Map<string, ApprovalRule>> {
      if (accountIds.length === 0) return new Map();
      const rows = await db.selectFrom('account_approval_rules').selectAll().where('account_id', 'in', accountIds).execute();
      return new Map(rows.map((row) => [row.account_id, toRule(row)]));
    },
    /** Sets (or with null removes) the approval rule of an account. */
    async setApprovalRule(accountId: string, rule: Omit<ApprovalRule, 'accountId'> | null): Promise<void> {
      if (rule === null) {
        await db.deleteFrom('account_approval_rules').where('account_id', '=', accountId).execute();
        return;
      }
      const values = {
        approver_user_ids: JSON.stringify(rule.approverUserIds),
        approver_group_ids: JSON.stringify(rule.approverGroupIds),
        required_approvals: rule.requiredApprovals,
      };
      await db
        .insertInto('account_approval_rules')
        .values({ account_id: accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
    },
  };
}

function toPolicy(row: Selectable<PoliciesTable>): Policy {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    userIds: row.user_ids,
    groupIds: row.group_ids,
    accountIds: row.account_ids,
    maxDurationSeconds: row.max_duration_seconds,
    createdAt: row.created_at,
  };
}

function toRule(row: Selectable<AccountApprovalRulesTable>): ApprovalRule {
  return {
    accountId: row.account_id,
    approverUserIds: row.approver_user_ids,
    approverGroupIds: row.approver_group_ids,
    requiredApprovals: row.required_approvals,
  };
}
