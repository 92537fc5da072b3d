/** Audit export: `GET /audit` (filters, paging) and `GET /audit/stream` (JSON lines, following). */
import { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import type { User } from '../../store/users.ts';
import { ok, route, type AnyRoute } from '../route.ts';
import type { Services } from '../services.ts';

const isoDate = z
  .string()
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date-time')
  .transform((v) => new Date(v));
const filters = {
  projectId: z.string().min(1).max(200).optional(),
  actor: z.string().min(1).max(320).optional(),
  action: z.string().min(1).max(100).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  after: z.coerce.number().int().min(0).default(0),
};
const listQuery = z.object({ ...filters, limit: z.coerce.number().int().min(1).max(1000).default(100) });
const streamQuery = z.object({ ...filters, maxSeconds: z.coerce.number().int().min(1).max(86_400).default(3600) });

export function auditRoutes(s: Services): AnyRoute[] {
  /** Instance admins see everything; project admins and auditors their projects' events. */
  const scope = async (user: User, projectId: string | undefined): Promise<string[] | undefined> => {
    const auditable = await s.permissions.projectsWhere(user, 'audit');
    if (auditable === undefined) return undefined;
    if (auditable.length === 0) throw new GatehouseError(ErrorCodes.FORBIDDEN, 'only administrators and auditors may read the audit trail');
    if (projectId !== undefined && !auditable.includes(projectId))
      throw new GatehouseError(ErrorCodes.FORBIDDEN, 'you may not read the audit trail of this project');
    return auditable;
  };

  return [
    route({
      method: 'GET',
      path: '/api/v1/audit',
      query: listQuery,
      handler: async ({ user, query }) => {
        const projectIds = await scope(user, query.projectId);
        const events = await s.store.auditEvents.list({ ...query, projectIds });
        return ok({ events, next: events.length === query.limit ? events[events.length - 1].seq : null });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/stream',
      query: streamQuery,
      handler: async ({ user, query }) => {
        const { after, maxSeconds, ...filter } = query;
        const projectIds = await scope(user, query.projectId);
        return { status: 200, body: undefined, stream: s.auditStreams.open({ ...filter, projectIds }, after, maxSeconds) };
      },
    }),
  ];
}
