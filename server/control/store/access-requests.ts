import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AccessRequestStatus, AccessRequestsTable, ApprovalDecision } from './access-schema.ts';
import type { Database } from './schema.ts';

export type { AccessRequestStatus, ApprovalDecision };

export interface AccessRequest {
  id: string;
  projectId: string;
  userId: string;
  userEmail: string;
  resourceId: string;
  resourceName: string;
  accountId: string;
  accountName: string;
  durationSeconds: number;
  reason: string;
  status: AccessRequestStatus;
  requiredApprovals: number;
  approvals: ApprovalDecision[];
  createdAt: Date;
  approvedAt: Date | null;
  windowEndsAt: Date | null;
}

export type AccessRequestsRepo = ReturnType<typeof createAccessRequestsRepo>;

export function createAccessRequestsRepo(db: Kysely<Database>) {
  return {
    async create(input: Omit<AccessRequest, 'id' | 'status' | 'approvals' | 'createdAt' | 'approvedAt' | 'windowEndsAt'>, now: Date): Promise<AccessRequest> {
      const row = await db
        .insertInto('access_requests')
        .values({
          id: randomUUID(),
          project_id: input.projectId,
          user_id: input.userId,
          user_email: input.userEmail,
          resource_id: input.resourceId,
          resource_name: input.resourceName,
          account_id: input.accountId,
          account_name: input.accountName,
          duration_seconds: input.durationSeconds,
          reason: input.reason,
          status: 'pending',
          required_approvals: input.requiredApprovals,
          approvals: JSON.stringify([]),
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRequest(row);
    },
    async findById(id: string): Promise<AccessRequest | undefined> {
      const row = await db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRequest(row);
    },
    async list(filter: { projectIds?: string[]; userId?: string; status?: AccessRequestStatus; limit: number }): Promise<AccessRequest[]> {
      let query = db.selectFrom('access_requests').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit);
      if (filter.projectIds !== undefined) {
        if (filter.projectIds.length === 0) return [];
        query = query.where('project_id', 'in', filter.projectIds);
      }
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      return (await query.execute()).map(toRequest);
    },
    /**
     * Records a decision on a pending request, in a transaction that locks the row so two
     * approvers at once cannot both count. Returns undefined when it is no longer pending.
     */
    async decide(
      id: string,
      decide: (current: AccessRequest) => Pick<AccessRequest, 'status' | 'approvals' | 'approvedAt' | 'windowEndsAt'>,
    ): Promise<AccessRequest | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('access_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!row || row.status !== 'pending') return undefined;
        const next = decide(toRequest(row));
        const updated = await trx
          .updateTable('access_requests')
          .set({ status: next.status, approvals: JSON.stringify(next.approvals), approved_at: next.approvedAt, window_ends_at: next.windowEndsAt })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toRequest(updated);
      });
    },
    /** Pending requests older than `pendingBefore`, and approved ones whose window closed, become expired. */
    async expireDue(pendingBefore: Date, now: Date): Promise<AccessRequest[]> {
      const rows = await db
        .updateTable('access_requests')
        .set({ status: 'expired' })
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'pending'), eb('created_at', '<=', pendingBefore)]),
            eb.and([eb('status', '=', 'approved'), eb('window_ends_at', '<=', now)]),
          ]),
        )
        .returningAll()
        .execute();
      return rows.map(toRequest);
    },
  };
}

function toRequest(row: Selectable<AccessRequestsTable>): AccessRequest {
  return {
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    userEmail: row.user_email,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    accountId: row.account_id,
    accountName: row.account_name,
    durationSeconds: row.duration_seconds,
    reason: row.reason,
    status: row.status,
    requiredApprovals: row.required_approvals,
    approvals: row.approvals,
    createdAt: row.created_at,
    approvedAt: row.approved_at,
    windowEndsAt: row.window_ends_at,
  };
}
