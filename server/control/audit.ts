/** Writes audit records for admin changes and accesses (basic form; a hash chain comes later). */
import type { Store } from './store/store.ts';
import type { User } from './store/users.ts';

export interface AuditInput {
  actor: User | null;
  action: string;
  targetType: string;
  targetId: string | null;
  sourceAddress: string | null;
  details?: Record<string, unknown>;
}

export type Audit = (event: AuditInput) => Promise<void>;

export function createAudit(store: Store): Audit {
  return (event) =>
    store.auditEvents.record({
      actorId: event.actor?.id ?? null,
      actorEmail: event.actor?.email ?? null,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      sourceAddress: event.sourceAddress,
      details: event.details,
    });
}
