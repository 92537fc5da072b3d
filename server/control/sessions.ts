/**
 * Access sessions: creation (with the client certificate), ending, revoking and expiry.
 * `create` is the one way to open a session, whoever asks (HTTP, Web Access, tests): it
 * resolves the account once, then checks the grant (policy and maximum duration), the
 * fresh second factor an account may require, approval and the gateway, in that order.
 * Whoever ends a session also tells the relay, which closes the tunnels and the gateway's
 * connections for it.
 */
import { randomUUID } from 'node:crypto';
import type { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { ErrorCodes, GatehouseError, InvalidInputError, notFound } from '../../proxy-core/src/errors.ts';
import type { SessionEndReason } from '../../proxy-core/src/tunnel/session-end.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { AccessEvaluator } from './access/access-evaluator.ts';
import type { AccessRequestService } from './access/access-requests.ts';
import type { Audit } from './audit.ts';
import type { Permissions } from './auth/permissions.ts';
import type { MfaService } from './auth/mfa/mfa-service.ts';
import { durationSeconds } from './duration.ts';
import type { SessionKind } from './store/schema.ts';
import type { SessionPageFilter, SessionRecord } from './store/sessions.ts';
import type { Store } from './store/store.ts';
import type { User } from './store/users.ts';

const log = createLogger('sessions');

/** The part of the relay that sessions need. */
export interface SessionRelay {
  /** True while any control plane replica holds a link of the gateway. */
  isGatewayConnected(gatewayId: string): boolean | Promise<boolean>;
  /** Ends the session's tunnels and connections on every replica (server/control/cluster). */
  endSession(sessionId: string, reason: SessionEndReason): void;
  /**
   * Moves the session's expiry on every replica and gateway (open connections carry on) and
   * hands the client tunnels the new certificate (whoever holds the local proxy applies it).
   */
  extendSession(sessionId: string, expiresAt: Date, certificatePem: string): void;
}

export interface ExtendSessionInput {
  duration: string | number;
  publicKeyPem: string;
  mfa?: { method: 'totp' | 'email'; code: string };
}

/** Filters and position of `GET /sessions` (see SessionPageFilter). */
export type SessionListQuery = Omit<SessionPageFilter, 'visibleTo' | 'now'>;

export interface CreateSessionInput {
  projectId: string;
  resource: string;
  account: string;
  duration: string | number;
  publicKeyPem: string;
  /** An approved access request whose window is open, for accounts that require approval. */
  accessRequestId?: string;
  /** A fresh second factor, for accounts with requireMfa. */
  mfa?: { method: 'totp' | 'email'; code: string };
  /** 'web' for Web Access (the control plane is the client); default 'proxy'. */
  kind?: SessionKind;
}

/** The part of MFA that opening a session needs. */
export type SessionMfa = Pick<MfaService, 'methodsFor' | 'verify'>;

export class SessionService {
  readonly #store: Store;
  readonly #ca: CertificateAuthority;
  readonly #relay: SessionRelay;
  readonly #permissions: Permissions;
  readonly #audit: Audit;
  readonly #maxSeconds: number;
  readonly #access: AccessEvaluator;
  readonly #requests: AccessRequestService;
  readonly #mfa: SessionMfa;

  constructor(options: {
    store: Store;
    ca: CertificateAuthority;
    relay: SessionRelay;
    permissions: Permissions;
    audit: Audit;
    maxSessionSeconds: number;
    access: AccessEvaluator;
    requests: AccessRequestService;
    mfa: SessionMfa;
  }) {
    this.#store = options.store;
    this.#ca = options.ca;
    this.#relay = options.relay;
    this.#permissions = options.permissions;
    this.#audit = options.audit;
    this.#maxSeconds = options.maxSessionSeconds;
    this.#access = options.access;
    this.#requests = options.requests;
    this.#mfa = options.mfa;
  }

  async create(user: User, input: CreateSessionInput, sourceAddress: string | null) {
    const seconds = durationSeconds(input.duration, this.#maxSeconds);
    const project = await this.#store.projects.findById(input.projectId);
    if (!project) throw notFound('project');
    await this.#permissions.require(user, project.id, 'access');
    const resource = await this.#store.resources.findInProject(project.id, input.resource);
    if (!resource) throw notFound(`resource "${input.resource}" in project "${project.name}"`);
    const found = await this.#store.accounts.findOnResource(resource.id, input.account);
    const account = found && (await this.#store.accounts.findById(found.id));
    if (!account) throw notFound(`account "${input.account}" on resource "${resource.name}"`);
    // Policies first (POLICY_DENIED naming what is missing, or over the policy's max duration):
    // nobody is asked for a code for an account they may not use. Then MFA, then approval.
    const grant = await this.#access.grantFor(user, project.id, account, seconds);
    if (account.requireMfa) await this.#requireMfa(user, project.id, account, input.mfa, sourceAddress);
    if (account.passwordSealed === null) {
      // The resource moved (host, port or TLS) and the password was cleared (issue 10 item 2).
      throw new GatehouseError(
        ErrorCodes.CONFLICT,
        `the password of account "${account.name}" must be entered again (its resource's host, port or TLS settings changed); ask a project admin`,
      );
    }
    const approved = grant.approval ? await this.#requests.windowFor(user, account, grant.approval, input.accessRequestId) : undefined;
    if (!(await this.#relay.isGatewayConnected(resource.gatewayId))) {
      throw new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, `the gateway for "${resource.name}" is not connected; try again when it is back`);
    }

    const now = new Date();
    const id = randomUUID();
    const wanted = now.getTime() + seconds * 1000;
    const expiresAt = new Date(approved ? Math.min(wanted, approved.windowEndsAt.getTime()) : wanted);
    const certificatePem = await this.#issueCertificate(id, user, input.publicKeyPem, expiresAt);
    const session = await this.#store.sessions.create(
      {
        id,
        projectId: project.id,
        userId: user.id,
        userEmail: user.email,
        resourceId: resource.id,
        resourceName: resource.name,
        database: resource.database,
        accountId: account.id,
        accountName: account.name,
        username: account.username,
        gatewayId: resource.gatewayId,
        kind: input.kind ?? 'proxy',
        expiresAt,
      },
      now,
    );
    await this.#audit({
      actor: user,
      action: 'session.create',
      targetType: 'session',
      targetId: id,
      sourceAddress,
      details: {
        projectId: project.id,
        resource: resource.name,
        account: account.name,
        expiresAt: expiresAt.toISOString(),
        kind: input.kind ?? 'proxy',
        ...(approved && { accessRequestId: approved.request.id }),
      },
    });
    return { session, certificatePem, caCertificatePem: this.#ca.certPem, gatewayId: resource.gatewayId };
  }

  /**
   * Extends the caller's own active session in place: `duration` more than its current expiry,
   * checked like a new session from now (policy maximum, MFA, no approval window to stretch).
   * A new certificate for the same key covers the new expiry; tunnels, gateway connections and
   * the open client connections carry on.
   */
  async extend(user: User, id: string, input: ExtendSessionInput, sourceAddress: string | null) {
    const session = await this.get(user, id);
    if (session.userId !== user.id) throw new GatehouseError(ErrorCodes.FORBIDDEN, 'only the person who opened a session may extend it');
    if (session.status !== 'active') {
      const code =
        session.status === 'revoked' ? ErrorCodes.SESSION_REVOKED : session.status === 'expired' ? ErrorCodes.SESSION_EXPIRED : ErrorCodes.SESSION_ENDED;
      throw new GatehouseError(code, `this session is ${session.status}; start a new one (Access again)`);
    }
    const seconds = durationSeconds(input.duration, this.#maxSeconds);
    const account = await this.#store.accounts.findById(session.accountId);
    if (!account) throw notFound('account');
    const now = new Date();
    const expiresAt = new Date(session.expiresAt.getTime() + seconds * 1000);
    const remaining = Math.ceil((expiresAt.getTime() - now.getTime()) / 1000);
    if (remaining > this.#maxSeconds) throw new InvalidInputError(`duration: a session may run at most ${this.#maxSeconds} seconds from now`, 'duration');
    const grant = await this.#access.grantFor(user, session.projectId, account, remaining);
    if (grant.approval) {
      throw new GatehouseError(
        ErrorCodes.APPROVAL_REQUIRED,
        `account "${account.name}" needs approval for each session: it cannot be extended past its approved window; request access again`,
      );
    }
    if (account.requireMfa) await this.#requireMfa(user, session.projectId, account, input.mfa, sourceAddress);
    const certificatePem = await this.#issueCertificate(id, user, input.publicKeyPem, expiresAt);
    const extended = await this.#store.sessions.extend(id, expiresAt, now);
    if (!extended) throw new GatehouseError(ErrorCodes.SESSION_ENDED, 'this session ended meanwhile; start a new one (Access again)');
    this.#relay.extendSession(id, expiresAt, certificatePem);
    await this.#audit({
      actor: user,
      action: 'session.extend',
      targetType: 'session',
      targetId: id,
      sourceAddress,
      details: { projectId: session.projectId, from: session.expiresAt.toISOString(), expiresAt: expiresAt.toISOString() },
    });
    return { session: extended, certificatePem };
  }

  /** MFA_REQUIRED with the methods to answer, or the proof checked (each code works once). */
  /** The session's client certificate: the session in its URI, the person as its name, valid until the session ends. */
  #issueCertificate(id: string, user: User, publicKeyPem: string, expiresAt: Date): Promise<string> {
    return this.#ca.issue({ publicKeyPem, uri: `gatehouse://session/${id}`, commonName: user.email, notAfter: expiresAt, usage: 'client' });
  }

  async #requireMfa(
    user: User,
    projectId: string,
    account: { id: string; name: string },
    proof: CreateSessionInput['mfa'],
    sourceAddress: string | null,
  ): Promise<void> {
    if (proof !== undefined) return this.#mfa.verify(user, proof.method, proof.code, 'access', sourceAddress);
    const methods = await this.#mfa.methodsFor(user, 'access');
    await this.#audit({
      actor: user,
      action: 'session.mfa_required',
      targetType: 'account',
      targetId: account.id,
      targetName: account.name,
      projectId,
      sourceAddress,
    });
    throw new GatehouseError(ErrorCodes.MFA_REQUIRED, `the account "${account.name}" requires MFA: send mfa: { method, code } (${methods.join(' or ')})`, {
      details: { challenge: { methods, ...(methods.includes('email') && { emailSendPath: '/api/v1/me/mfa/email/send' }) } },
    });
  }

  /**
   * A page of the caller's own sessions and every session in projects they may audit, newest
   * first; `after` is the previous page's last row (keyset, see store/keyset.ts).
   */
  async list(user: User, query: SessionListQuery): Promise<{ sessions: SessionRecord[]; last: SessionRecord | undefined }> {
    const now = new Date();
    const projectIds = await this.#permissions.projectsWhere(user, 'audit');
    const rows = await this.#store.sessions.page({ ...query, visibleTo: { userId: user.id, projectIds }, limit: query.limit + 1, now });
    const sessions = rows.slice(0, query.limit).map((session) => present(session, now));
    return { sessions, last: rows.length > query.limit ? sessions.at(-1) : undefined };
  }

  /** A session the caller may see, with an overdue `active` shown as `expired`. */
  async get(user: User, id: string): Promise<SessionRecord> {
    const session = await this.#store.sessions.findById(id);
    if (!session || !(await this.#permissions.canSeeSession(user, session))) throw notFound('session');
    return present(session, new Date());
  }

  async end(user: User, id: string, sourceAddress: string | null): Promise<SessionRecord> {
    const session = await this.get(user, id);
    await this.#permissions.requireEndSession(user, session);
    return this.#finish(user, session, 'ended', sourceAddress);
  }

  async revoke(user: User, id: string, sourceAddress: string | null): Promise<SessionRecord> {
    const session = await this.get(user, id);
    await this.#permissions.requireRevokeSession(user, session);
    return this.#finish(user, session, 'revoked', sourceAddress);
  }

  /** Revokes every live session of a user (disabled or deleted); returns how many. */
  async revokeAllOf(actor: User, userId: string, sourceAddress: string | null): Promise<number> {
    const live = await this.#store.sessions.list({ userId, status: 'active', limit: 10_000 });
    let count = 0;
    for (const session of live) {
      const finished = await this.#finish(actor, session, 'revoked', sourceAddress);
      if (finished.status === 'revoked') count += 1;
    }
    return count;
  }

  /**
   * Revokes every live session of a resource or account whose target or password changed or
   * which is being deleted: the tunnel was set up with the old target and password, so its
   * sessions must not outlive the change (issue 10 item 7). Returns how many ended.
   */
  async revokeSessionsOf(actor: User, of: { resourceId: string } | { accountId: string }, cause: string, sourceAddress: string | null): Promise<number> {
    const live = await this.#store.sessions.list({ ...of, status: 'active', limit: 10_000 });
    let count = 0;
    for (const session of live) {
      const finished = await this.#finish(actor, session, 'revoked', sourceAddress, { cause });
      if (finished.status === 'revoked') count += 1;
    }
    if (count > 0) log.info({ ...of, count, cause }, 'sessions revoked because their resource or account changed');
    return count;
  }

  /** Marks every overdue active session expired and tells the relay. */
  async expireDue(): Promise<SessionRecord[]> {
    const expired = await this.#store.sessions.expireDue(new Date());
    for (const session of expired) {
      this.#relay.endSession(session.id, 'expired');
      await this.#audit({ actor: null, action: 'session.expire', targetType: 'session', targetId: session.id, sourceAddress: null });
    }
    if (expired.length > 0) log.info({ count: expired.length }, 'sessions expired');
    return expired;
  }

  async #finish(
    user: User,
    session: SessionRecord,
    status: 'ended' | 'revoked',
    sourceAddress: string | null,
    details?: Record<string, unknown>,
  ): Promise<SessionRecord> {
    if (session.status !== 'active') return session; // already over: ending twice is harmless
    const finished = await this.#store.sessions.finish(session.id, status, new Date());
    if (!finished) return present((await this.#store.sessions.findById(session.id)) ?? session, new Date());
    this.#relay.endSession(session.id, status);
    await this.#audit({
      actor: user,
      action: status === 'ended' ? 'session.end' : 'session.revoke',
      targetType: 'session',
      targetId: session.id,
      sourceAddress,
      ...(details && { details }),
    });
    return finished;
  }
}

/** The status a reader should see: the scheduler may not have run yet for an overdue session. */
export function present(session: SessionRecord, now: Date): SessionRecord {
  if (session.status === 'active' && session.expiresAt.getTime() <= now.getTime()) {
    return { ...session, status: 'expired', endedAt: session.expiresAt };
  }
  return session;
}
