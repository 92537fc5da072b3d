/**
 * Credential rotation, credential health and Check connection (issue 13, issue 11).
 *
 * A rotation never loses the working password:
 *   1. generate a new password (new-password.ts);
 *   2. store it sealed as *pending* next to the current one;
 *   3. as the resource's rotation account (or the account itself), `ALTER ROLE … PASSWORD
 *      '<SCRAM-SHA-256 verifier>'`: the verifier is computed here, so the plaintext is in no
 *      SQL text the database could log;
 *   4. log in as the account with the new password (a fresh connection);
 *   5. only then make it current (one transaction).
 * A failure before step 3, or an ALTER the database refused, drops the pending password. A
 * crash or a lost connection after step 3 leaves it pending (and due): the next run, on any
 * replica, reconciles it first — log in with the current password, else with the pending one,
 * and keep whichever works.
 *
 * All logins go through the resource's gateway as service connections
 * (server/control/service-connection). The caller holds the account's lease (scheduler.ts, or
 * the API for Rotate now), so exactly one replica works on an account at a time.
 */
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.ts';
import { scramSha256Verifier } from '../../../proxy-core/src/auth/scram-verifier.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { accountPasswordAad, type AccountWithResource } from '../store/accounts.ts';
import { rotationPasswordAad, type AccountCredentials } from '../store/credentials.ts';
import type { Resource } from '../store/resources.ts';
import type { Store } from '../store/store.ts';
import { CredentialFailure, CredentialFailureCodes, type ServiceConnector } from '../service-connection/service-connection.ts';
import type { CredentialAlerts, FailureInfo, Initiator, RotationTrigger } from './alerts.ts';
import { newDatabasePassword } from './new-password.ts';
import type { CredentialMetrics } from '../metrics.ts';

const log = createLogger('credentials');

/** How long Rotate now waits for another job on the account to finish. */
const BUSY_WAIT_MS = 10_000;

/** Test-only fault points (never set from configuration or flags: only code can pass them). */
export interface RotationFaults {
  /** Called after ALTER ROLE succeeded and before the new password is verified and made current. */
  afterAlterRole?(accountId: string): void | Promise<void>;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

export type RotationOutcome = { ok: true; reconciled: boolean } | { ok: false; failure: FailureInfo };

export type ConnectionCheck =
  | { ok: true; latencyMs: number; serverVersion?: string; username: string }
  | { ok: false; latencyMs: number; code: string; message: string; sqlstate?: string; username: string };

/** Thrown when another replica holds the gateway's link: the job is left to it, nothing is recorded. */
export class NotLinkedHere extends Error {}

export interface CredentialServiceOptions {
  store: Store;
  box: SecretBox;
  connector: ServiceConnector;
  alerts: CredentialAlerts;
  metrics: CredentialMetrics;
  /** This replica holds an open link of the gateway. */
  isLinkedHere(gatewayId: string): boolean;
  isLinkedAnywhere(gatewayId: string): Promise<boolean>;
  retry: RetryPolicy;
  /** How long a job's lease on an account lasts (it is released when the job ends). */
  leaseMs: number;
  /** This replica's id (lease owners). */
  replicaId: string;
  faults?: RotationFaults;
}

/** Rotate now found another job working on the account. */
export class RotationBusy extends Error {}

export class CredentialService {
  constructor(private readonly o: CredentialServiceOptions) {}

  /**
   * Rotates (or, with `reconcileOnly`, only reconciles) one account's password. The caller
   * holds its lease. Records status, audit, metrics and alerts; never throws for a database
   * or gateway failure (it is the outcome), only NotLinkedHere.
   */
  async rotate(accountId: string, trigger: RotationTrigger, initiator: Initiator, options: { reconcileOnly?: boolean } = {}): Promise<RotationOutcome> {
    const account = await this.o.store.accounts.findById(accountId);
    const resource = account && (await this.o.store.resources.findById(account.resourceId));
    if (!account || !resource) return { ok: false, failure: { code: 'NOT_FOUND', message: 'the account was deleted' } };
    let via: 'rotation-account' | 'self' = 'self';
    try {
      await this.ensureGateway(resource);
      if (account.passwordSealed === null)
        throw new CredentialFailure(CredentialFailureCodes.NO_PASSWORD, 'the account has no stored password (its resource moved); enter it again first');
      const current = this.o.box.openString(account.passwordSealed, accountPasswordAad(account.id));
      const creds = await this.o.store.credentials.get(account.id);

      if (creds.pendingPasswordSealed !== null) {
        const kept = await this.reconcile(account, resource, current, creds.pendingPasswordSealed);
        if (kept === 'pending') {
          await this.o.alerts.rotated(account, { trigger, via, reconciled: true }, initiator);
          return { ok: true, reconciled: true };
        }
      }
      if (options.reconcileOnly) return { ok: true, reconciled: true };

      const rotationAccount = await this.o.store.credentials.rotationAccount(resource.id);
      via = rotationAccount ? 'rotation-account' : 'self';
      const admin = rotationAccount
        ? { username: rotationAccount.username, password: this.o.box.openString(rotationAccount.passwordSealed, rotationPasswordAad(resource.id)) }
        : { username: account.username, password: current };

      // 1–2: the new password, sealed as pending, before anything reaches the database.
      const next = newDatabasePassword();
      await this.o.store.credentials.setPending(account.id, this.o.box.seal(next, accountPasswordAad(account.id)));
      // 3: ALTER ROLE with a verifier computed here.
      await this.alterRole(account, resource, admin, next);
      await this.o.faults?.afterAlterRole?.(account.id);
      // 4: a fresh login with the new password.
      await this.login(resource, account.username, next, 'rotation');
      // 5: only now is it the account's password.
      await this.o.store.credentials.makePendingCurrent(account.id);
      await this.o.alerts.rotated(account, { trigger, via }, initiator);
      return { ok: true, reconciled: false };
    } catch (err) {
      if (err instanceof NotLinkedHere) throw err;
      const failure = toFailureInfo(err);
      const before = await this.o.store.credentials.get(account.id);
      const after = await this.o.store.credentials.recordFailure(account.id, failure, backoff(this.o.retry, before.failures));
      await this.o.alerts.rotationFailed(
        account,
        failure,
        { trigger, failures: after.failures, nextAttemptAt: after.rotationEnabled || after.pendingPasswordSealed ? after.nextRotationAt : null },
        initiator,
      );
      return { ok: false, failure };
    }
  }

  /** Rotate now (an admin): leases the account, rotates, releases; throws RotationBusy while another job holds it. */
  async rotateNow(accountId: string, initiator: Initiator): Promise<RotationOutcome> {
    const owner = `${this.o.replicaId}:manual:${randomUUID()}`;
    // A health check holds an account for a second or so: wait for it rather than refuse.
    const deadline = Date.now() + BUSY_WAIT_MS;
    while (!(await this.o.store.credentials.claim(accountId, owner, this.o.leaseMs))) {
      if (Date.now() > deadline) throw new RotationBusy('another rotation or check of this account is running; try again in a moment');
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      return await this.rotate(accountId, 'manual', initiator);
    } catch (err) {
      if (err instanceof NotLinkedHere) {
        return {
          ok: false,
          failure: {
            code: CredentialFailureCodes.GATEWAY_NOT_LINKED_HERE,
            message: 'the gateway is linked to another control plane replica but not yet to this one; try again in a few seconds',
          },
        };
      }
      throw err;
    } finally {
      await this.o.store.credentials.release(accountId, owner);
    }
  }

  /** Logs in with the stored password (after reconciling a pending one) and records the account's health. */
  async checkHealth(accountId: string): Promise<'ok' | 'broken' | 'unreachable' | 'skipped'> {
    const account = await this.o.store.accounts.findById(accountId);
    const resource = account && (await this.o.store.resources.findById(account.resourceId));
    if (!account || !resource || account.passwordSealed === null) return 'skipped';
    await this.ensureGateway(resource);
    const creds = await this.o.store.credentials.get(account.id);
    if (creds.pendingPasswordSealed !== null) {
      // A rotation died after ALTER ROLE: settle it first, so the check tests what users will use.
      await this.rotate(account.id, 'reconcile', { actor: null, sourceAddress: null }, { reconcileOnly: true });
      return this.checkHealth(accountId);
    }
    const result = await this.tryLogin(account, resource, this.o.box.openString(account.passwordSealed, accountPasswordAad(account.id)), 'health-check');
    return this.recordHealth(account, result.ok ? undefined : result.failure);
  }

  /** Check connection: logs in as the account through the gateway, right now; records health as a side effect. */
  async checkConnection(accountId: string): Promise<ConnectionCheck> {
    const account = await this.o.store.accounts.findById(accountId);
    const resource = account && (await this.o.store.resources.findById(account.resourceId));
    if (!account || !resource) throw new Error('account not found');
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (account.passwordSealed === null) {
      return {
        ok: false,
        latencyMs: 0,
        code: CredentialFailureCodes.NO_PASSWORD,
        message: 'the account has no stored password; enter it again',
        username: account.username,
      };
    }
    const password = this.o.box.openString(account.passwordSealed, accountPasswordAad(account.id));
    try {
      const version = await this.o.connector.with({ resource, username: account.username, password, purpose: 'connection-check' }, async (c) => {
        await c.query('SELECT 1');
        return c.parameters.server_version;
      });
      await this.recordHealth(account, undefined);
      return { ok: true, latencyMs: elapsed(), username: account.username, ...(version !== undefined && { serverVersion: version }) };
    } catch (err) {
      const failure = toFailureInfo(err);
      if (failure.code !== CredentialFailureCodes.GATEWAY_NOT_LINKED_HERE) await this.recordHealth(account, failure);
      return { ok: false, latencyMs: elapsed(), username: account.username, ...failure };
    }
  }

  /** Of the current and the pending password, keeps the one the database accepts. */
  private async reconcile(account: AccountWithResource, resource: Resource, current: string, pendingSealed: string): Promise<'current' | 'pending'> {
    const currentLogin = await this.tryLogin(account, resource, current, 'rotation');
    if (currentLogin.ok) {
      await this.o.store.credentials.clearPending(account.id);
      log.info({ accountId: account.id }, 'reconciled a pending password: the database kept the current one');
      return 'current';
    }
    if (!isAuthFailure(currentLogin.failure)) throw toCredentialFailure(currentLogin.failure);
    const pending = this.o.box.openString(pendingSealed, accountPasswordAad(account.id));
    const pendingLogin = await this.tryLogin(account, resource, pending, 'rotation');
    if (pendingLogin.ok) {
      await this.o.store.credentials.makePendingCurrent(account.id);
      log.info({ accountId: account.id }, 'reconciled a pending password: the database had the new one; it is current now');
      return 'pending';
    }
    throw new CredentialFailure(
      CredentialFailureCodes.NO_WORKING_PASSWORD,
      `neither the stored nor the pending password is accepted by the database (${currentLogin.failure.message}); enter the account's password again`,
      currentLogin.failure.sqlstate,
    );
  }

  private async alterRole(account: AccountWithResource, resource: Resource, admin: { username: string; password: string }, next: string): Promise<void> {
    const statement = `ALTER ROLE ${quoteIdent(account.username)} PASSWORD ${quoteLiteral(scramSha256Verifier(next))}`;
    let sent = false;
    try {
      await this.o.connector.with({ resource, username: admin.username, password: admin.password, purpose: 'rotation' }, async (c) => {
        sent = true;
        await c.query(statement);
      });
    } catch (err) {
      const definite = !sent || (err instanceof CredentialFailure && err.sqlstate !== undefined);
      // Refused (or never sent): the database has the old password; the pending one is dropped.
      // Unknown (the connection died with the statement in flight): kept for reconciliation.
      if (definite) await this.o.store.credentials.clearPending(account.id);
      throw err;
    }
  }

  private async login(resource: Resource, username: string, password: string, purpose: 'rotation' | 'health-check'): Promise<void> {
    await this.o.connector.with({ resource, username, password, purpose }, (c) => c.query('SELECT 1'));
  }

  private async tryLogin(
    account: AccountWithResource,
    resource: Resource,
    password: string,
    purpose: 'rotation' | 'health-check',
  ): Promise<{ ok: true } | { ok: false; failure: FailureInfo }> {
    try {
      await this.login(resource, account.username, password, purpose);
      return { ok: true };
    } catch (err) {
      return { ok: false, failure: toFailureInfo(err) };
    }
  }

  private async recordHealth(account: AccountWithResource, failure: FailureInfo | undefined): Promise<'ok' | 'broken' | 'unreachable'> {
    const status = failure === undefined ? 'ok' : isAuthFailure(failure) ? 'broken' : 'unreachable';
    this.o.metrics.healthCheck(status);
    const { previous } = await this.o.store.credentials.recordHealth(account.id, status, failure);
    if (status !== 'unreachable') await this.o.alerts.healthChanged(account, status, previous, failure);
    return status;
  }

  /** Fail closed on the gateway before anything is stored; a link on another replica means "not mine". */
  private async ensureGateway(resource: Resource): Promise<void> {
    if (this.o.isLinkedHere(resource.gatewayId)) return;
    if (await this.o.isLinkedAnywhere(resource.gatewayId)) throw new NotLinkedHere(resource.gatewayId);
    throw new CredentialFailure(CredentialFailureCodes.GATEWAY_OFFLINE, `the gateway of "${resource.name}" is offline`);
  }
}

/** The status an account shows (API, console). */
export function credentialsDto(c: AccountCredentials) {
  return {
    rotation: {
      enabled: c.rotationEnabled,
      intervalDays: c.intervalDays,
      lastRotatedAt: c.lastRotatedAt?.toISOString() ?? null,
      nextRotationAt: c.rotationEnabled || c.pendingPasswordSealed ? (c.nextRotationAt?.toISOString() ?? null) : null,
      lastResult: c.lastResult,
      lastAttemptAt: c.lastAttemptAt?.toISOString() ?? null,
      lastError: c.lastErrorCode === null ? null : { code: c.lastErrorCode, message: c.lastError ?? '' },
      failures: c.failures,
      pending: c.pendingPasswordSealed !== null,
    },
    health: {
      status: c.health.status,
      checkedAt: c.health.checkedAt?.toISOString() ?? null,
      error: c.health.code === null ? null : { code: c.health.code, message: c.health.error ?? '' },
    },
  };
}

function backoff(policy: RetryPolicy, failuresBefore: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failuresBefore, 20));
}

const AUTH_CODES = new Set<string>([
  CredentialFailureCodes.WRONG_PASSWORD,
  CredentialFailureCodes.AUTH_REFUSED,
  CredentialFailureCodes.NO_PASSWORD,
  CredentialFailureCodes.NO_WORKING_PASSWORD,
]);

function isAuthFailure(f: FailureInfo): boolean {
  return AUTH_CODES.has(f.code);
}

function toFailureInfo(err: unknown): FailureInfo {
  if (err instanceof CredentialFailure) return { code: err.failure, message: err.message, ...(err.sqlstate !== undefined && { sqlstate: err.sqlstate }) };
  log.error({ err }, 'unexpected error in a credential job');
  return { code: 'INTERNAL', message: 'internal error in the control plane (see its log)' };
}

function toCredentialFailure(f: FailureInfo): CredentialFailure {
  return new CredentialFailure(f.code as CredentialFailure['failure'], f.message, f.sqlstate);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
