/** Table types for users/invitations/groups/policies/approvals/access requests (see migrations/0002-access-control.ts). */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | undefined, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;
type Json<T> = ColumnType<T, string, string>;

/** A member's role in a project (project_members.role, invitations.role). */
export type ProjectRole = 'admin' | 'member' | 'auditor';
export type AccessRequestStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface InvitationsTable {
  id: string;
  email: string;
  name: string | null;
  project_id: string | null;
  role: ProjectRole | null;
  code_hash: string;
  invited_by: string | null;
  expires_at: Date;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface GroupsTable {
  id: string;
  project_id: string;
  name: string;
  created_at: Timestamp;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  created_at: Timestamp;
}

export interface PoliciesTable {
  id: string;
  project_id: string;
  name: string;
  user_ids: Json<string[]>;
  group_ids: Json<string[]>;
  account_ids: Json<string[]>;
  max_duration_seconds: number;
  created_at: Timestamp;
}

export interface AccountApprovalRulesTable {
  account_id: string;
  approver_user_ids: Json<string[]>;
  approver_group_ids: Json<string[]>;
  required_approvals: number;
}

export interface ApprovalDecision {
  userId: string;
  email: string;
  decision: 'approve' | 'deny';
  comment: string;
  at: string;
}

export interface AccessRequestsTable {
  id: string;
  project_id: string;
  user_id: string;
  user_email: string;
  resource_id: string;
  resource_name: string;
  account_id: string;
  account_name: string;
  duration_seconds: number;
  reason: string;
  status: AccessRequestStatus;
  required_approvals: number;
  approvals: Json<ApprovalDecision[]>;
  created_at: Timestamp;
  approved_at: NullableTimestamp;
  window_ends_at: NullableTimestamp;
}

export interface AccessControlTables {
  invitations: InvitationsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  policies: PoliciesTable;
  account_approval_rules: AccountApprovalRulesTable;
  access_requests: AccessRequestsTable;
}
