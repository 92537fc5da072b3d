/**
 * The one way to write the audit trail: `audit.record(...)` (or calling `audit(...)`, the same).
 * Every event is appended to the hash chain in the store; listeners (the export stream) are
 * woken after each local append, and poll the store for appends by other replicas.
 */
import type { AuditCheckpoint, CheckpointSigner } from './audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from './store/audit-events.ts';
import type { Store } from './store/store.ts';
import type { User } from './store/users.ts';

/**
 * What a caller records: the stored event's fields, with the signed-in user instead of raw
 * actor columns. `projectId` (which scopes the event for project admins and auditors) is
 * derived from the target when left out. `details` never hold secret values; keys naming
 * secrets are redacted anyway.
 */
export type AuditInput = Omit<AuditEventInput, 'actorId' | 'actorEmail'> & {
  actor: Pick<User, 'id' | 'email'> | null;
  /** When there is no signed-in actor but an email was given (a failed sign-in). */
  actorEmail?: string | null;
};

export interface Audit {
  (event: AuditInput): Promise<void>;
  record(event: AuditInput): Promise<AuditEvent>;
  /** Called after each append in this process; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void;
  /** Appends a signed checkpoint of the chain head, unless nothing was appended since the last one (audit/checkpointer.ts). */
  checkpoint(signer: CheckpointSigner): Promise<AuditCheckpoint | undefined>;
}

export function createAudit(store: Store): Audit {
  const listeners = new Set<() => void>();
  const record = async (event: AuditInput): Promise<AuditEvent> => {
    const projectId = event.projectId !== undefined ? event.projectId : await deriveProjectId(store, event);
    const { actor, actorEmail, ...rest } = event;
    const stored = await store.auditEvents.record({
      ...rest,
      actorId: actor?.id ?? null,
      actorEmail: actor?.email ?? (actorEmail ? actorEmail.trim().toLowerCase().slice(0, 320) : null),
      targetName: event.targetName ?? null,
      projectId,
    });
    for (const listener of listeners) listener();
    return stored;
  };
  const audit = (async (event: AuditInput) => {
    await record(event);
  }) as Audit;
  audit.record = record;
  audit.checkpoint = async (signer) => {
    const made = await store.auditEvents.appendCheckpoint((head) => signer.sign(head));
    if (made) for (const listener of listeners) listener();
    return made?.checkpoint;
  };
  audit.onAppend = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return audit;
}

/**
 * The project of the target, for callers that did not say (best effort; null when unknown).
 * A target already deleted cannot be looked up: callers recording a deletion pass `projectId`
 * read before the delete, or the project's admins and auditors would never see the event.
 */
async function deriveProjectId(store: Store, event: AuditInput): Promise<string | null> {
  const fromDetails = event.details?.projectId;
  if (typeof fromDetails === 'string') return fromDetails;
  const id = event.targetId;
  if (id === null) return null;
  switch (event.targetType) {
    case 'project':
      return id;
    case 'session':
      return (await store.sessions.findById(id))?.projectId ?? null;
    case 'gateway':
      return (await store.gateways.findById(id))?.projectId ?? null;
    case 'resource':
      return (await store.resources.findById(id))?.projectId ?? null;
    case 'account': {
      return (await store.accounts.findById(id))?.resource.projectId ?? null;
    }
    default:
      return null;
  }
}
