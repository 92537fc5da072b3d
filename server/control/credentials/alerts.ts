/**
 * Failure is loud: each rotation result and each change of an account's credential health
 * goes to the audit trail and the metrics, and a failure (or a newly broken password) is
 * mailed to the project's admins when SMTP is configured. Nothing here carries a password.
 */
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Audit } from '../audit.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { CredentialMetrics } from '../metrics.ts';
import type { AccountWithResource } from '../store/accounts.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

const log = createLogger('credentials.alerts');

export interface FailureInfo {
  code: string;
  message: string;
  sqlstate?: string;
}

export type RotationTrigger = 'schedule' | 'manual' | 'reconcile';

/** Who started a job: an admin (Rotate now, Check connection) or the scheduler (actor null). */
export interface Initiator {
  actor: User | null;
  sourceAddress: string | null;
}

export const SCHEDULER: Initiator = { actor: null, sourceAddress: null };

export class CredentialAlerts {
  constructor(private readonly deps: { store: Store; audit: Audit; mailer: Mailer; metrics: CredentialMetrics; publicUrl: () => string }) {}

  async rotated(
    account: AccountWithResource,
    info: { trigger: RotationTrigger; via: 'rotation-account' | 'self'; reconciled?: boolean },
    { actor, sourceAddress }: Initiator,
  ): Promise<void> {
    this.deps.metrics.rotation('ok', 'OK');
    log.info({ accountId: account.id, trigger: info.trigger, via: info.via }, 'account password rotated');
    await this.deps.audit({
      actor,
      sourceAddress,
      action: info.reconciled ? 'account.rotation_reconciled' : 'account.rotated',
      targetType: 'account',
      targetId: account.id,
      projectId: account.resource.projectId,
      details: { name: account.name, resourceId: account.resource.id, trigger: info.trigger, via: info.via },
    });
  }

  async rotationFailed(
    account: AccountWithResource,
    failure: FailureInfo,
    info: { trigger: RotationTrigger; failures: number; nextAttemptAt: Date | null },
    { actor, sourceAddress }: Initiator,
  ): Promise<void> {
    this.deps.metrics.rotation('failed', failure.code);
    log.warn({ accountId: account.id, code: failure.code, sqlstate: failure.sqlstate, failures: info.failures }, `rotation failed: ${failure.message}`);
    await this.deps.audit({
      actor,
      sourceAddress,
      action: 'account.rotation_failed',
      targetType: 'account',
      targetId: account.id,
      projectId: account.resource.projectId,
      details: {
        name: account.name,
        resourceId: account.resource.id,
        trigger: info.trigger,
        code: failure.code,
        message: failure.message,
        ...(failure.sqlstate && { sqlstate: failure.sqlstate }),
        failures: info.failures,
      },
    });
    // One mail per streak of failures, not one per retry.
    if (info.failures === 1) {
      const next = info.nextAttemptAt ? `The next attempt is at ${info.nextAttemptAt.toISOString()}.` : 'It will not be retried until rotation is run again.';
      await this.mail(account, `Gatehouse: rotating the password of ${account.resource.name} / ${account.name} failed`, [
        `Gatehouse could not rotate the password of account "${account.name}" (database user ${account.username}) on resource "${account.resource.name}".`,
        '',
        `Reason (${failure.code}${failure.sqlstate ? `, SQLSTATE ${failure.sqlstate}` : ''}): ${failure.message}`,
        '',
        `The stored password was kept and still works unless stated otherwise in the console. ${next}`,
      ]);
    }
  }

  async healthChanged(account: AccountWithResource, status: 'ok' | 'broken', previous: string, failure: FailureInfo | undefined): Promise<void> {
    if (status === previous) return;
    if (status === 'ok' && previous !== 'broken') return;
    await this.deps.audit({
      actor: null,
      sourceAddress: null,
      action: status === 'broken' ? 'account.credential_broken' : 'account.credential_restored',
      targetType: 'account',
      targetId: account.id,
      projectId: account.resource.projectId,
      details: {
        name: account.name,
        resourceId: account.resource.id,
        ...(failure && { code: failure.code, message: failure.message, ...(failure.sqlstate && { sqlstate: failure.sqlstate }) }),
      },
    });
    if (status === 'broken' && failure) {
      log.warn({ accountId: account.id, code: failure.code }, `credential health check failed: ${failure.message}`);
      await this.mail(account, `Gatehouse: the stored password of ${account.resource.name} / ${account.name} no longer works`, [
        `The database refused the password Gatehouse stores for account "${account.name}" (database user ${account.username}) on resource "${account.resource.name}".`,
        '',
        `Reason (${failure.code}${failure.sqlstate ? `, SQLSTATE ${failure.sqlstate}` : ''}): ${failure.message}`,
        '',
        'Was it changed directly in the database? Enter the current password in the console (Resources → the account → Edit), then run Check connection.',
      ]);
    }
  }

  private async mail(account: AccountWithResource, subject: string, lines: string[]): Promise<void> {
    if (!this.deps.mailer.configured) return;
    const admins = await this.deps.store.projects.membersPage(account.resource.projectId, { role: 'admin', disabled: false, limit: 1000 });
    const url = this.deps.publicUrl();
    const text = [...lines, ...(url ? ['', `Console: ${url}/`] : [])].join('\n');
    for (const admin of admins) {
      await this.deps.mailer
        .send({ to: admin.email, subject, text })
        .catch((err: unknown) => log.warn({ err, to: admin.email }, 'could not mail a credential alert'));
    }
  }
}
