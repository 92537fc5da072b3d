/** Bodies and queries of the users, groups, policies and access-request routes. */
import { z } from 'zod';
import { textCursor } from '../store/keyset.ts';

/** An id in a path or body, an email, and a name (of a resource, account, group, policy…): one definition each, for every route. */
export const id = z.string().min(1).max(200);
export const email = z.string().trim().max(320).email();
export const name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]*$/, 'use letters, digits, ".", "_", "-" and spaces, starting with a letter or digit');
const role = z.enum(['admin', 'member', 'auditor']);

export const inviteBody = z.object({ email, name: z.string().trim().max(200).optional(), projectId: id.optional(), role: role.optional() });
export const invitationCodeBody = z.object({ code: z.string().min(1).max(512) });
export const acceptInvitationBody = z.object({
  code: z.string().min(1).max(512),
  password: z.string().min(8).max(1024),
  name: z.string().trim().max(200).optional(),
});
/** A PATCH body must change something: `{}` (or only unknown fields, which are dropped) is a 400. */
export function somePatch<T extends z.ZodRawShape>(shape: T) {
  const fields = Object.keys(shape);
  return z.object(shape).refine((b) => Object.values(b).some((v) => v !== undefined), { message: `give at least one of ${fields.join(', ')}` });
}

export const updateUserBody = somePatch({
  disabled: z.boolean().optional(),
  name: z.string().trim().min(1).max(200).optional(),
  isAdmin: z.boolean().optional(),
});

/** `true` / `false` in a query string (anything else is a 400, not a silent `true`). */
const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');
const listPage = {
  /** Part of the email or name. */
  q: z.string().trim().min(1).max(320).optional(),
  disabled: queryBoolean.optional(),
  /** The previous page's `nextCursor`. */
  cursor: textCursor.optional(),
  /** Callers that do not page get up to 1000 rows, as before paging existed. */
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
};
/** `GET /users`: `role=admin` lists instance admins, `role=user` everyone else. */
export const listUsersQuery = z.object({ ...listPage, role: z.enum(['admin', 'user']).optional() });
/** `GET /projects/:projectId/members`. */
export const listMembersQuery = z.object({ ...listPage, role: role.optional() });

export const createGroupBody = z.object({ name });
export const groupMemberBody = z.object({ userId: id });

export const createPolicyBody = z
  .object({
    name,
    users: z.array(id).max(1000).default([]),
    groups: z.array(id).max(1000).default([]),
    accounts: z.array(id).min(1).max(1000),
    maxDurationSeconds: z
      .number()
      .int()
      .min(1)
      .max(366 * 86_400),
  })
  .refine((b) => b.users.length + b.groups.length > 0, { message: 'give at least one user or group', path: ['users'] });

export const approvalRuleBody = z
  .object({
    approverUsers: z.array(id).max(1000).default([]),
    approverGroups: z.array(id).max(1000).default([]),
    requiredApprovals: z.number().int().min(1).max(100),
  })
  .nullable();

export const fileAccessRequestBody = z.object({
  projectId: id,
  resource: z.string().min(1).max(200),
  account: z.string().min(1).max(200),
  duration: z.union([z.number(), z.string().max(20)]),
  reason: z.string().trim().min(1).max(2000),
});
export const listAccessRequestsQuery = z.object({
  projectId: id.optional(),
  status: z.enum(['pending', 'approved', 'denied', 'expired']).optional(),
  mine: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const decisionBody = z.object({ comment: z.string().max(2000).default('') });
