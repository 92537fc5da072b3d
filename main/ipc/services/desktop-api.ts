/**
 * What the desktop app's main process does for the renderer, one method per contract
 * channel, built from the client core (ApiClient, SettingsStore, SecretStore,
 * SessionManager) and the launchers. No Electron import: the Electron shell and the test
 * bridge both serve this same object through `defineHandlers`.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { ApiClient, hasCode, isMfaChallenge, isSignInRequired, normalizeDomain, SecretStoreTokenProvider } from '../../core/api/index.ts';
import { resolveAccessLink } from '../../core/deep-link.ts';
import type { SecretStore } from '../../core/secrets/secret-store.ts';
import type { SettingsStore } from '../../core/settings/index.ts';
import { jdbcUrl, openDbeaver, openPsql, type LaunchEnv, type LocalConnection } from '../../launchers/index.ts';
import type {
  AccessRequest,
  AccessRequestInfo,
  AccessRequestState,
  AccountGroup,
  AppNotification,
  AuthState,
  DesktopSettings,
  IpcEvents,
  ClientProfile,
  GateOutcome,
  MfaEnrollment,
  MfaEnrollmentDone,
  MfaMethod,
  MfaProof,
  ProfileTarget,
  ResumeReport,
  NewAccessRequest,
  ProfileInfo,
  SessionStatus,
  SignInResult,
} from '../contract.ts';
import type { IpcEventSource, IpcServices, Listener } from '../handlers.ts';
import { createSessionNotifier, type SessionNotifier } from './notifier.ts';
import { DesktopPrefs } from './desktop-prefs.ts';
import { GateFlows } from './gate-flows.ts';
import { ClientProfiles, profilePaths, type ProfileAccount, type ProfilePaths } from '../../core/profiles/index.ts';

const log = createLogger('desktop-api');

/** The part of main/core's SessionManager this layer uses. */
export interface SessionManagerLike {
  start(req: Omit<AccessRequest, 'reason'>): Promise<SessionStatus>;
  stop(sessionId: string): Promise<void>;
  list(): SessionStatus[];
  close(): Promise<void>;
  extend(sessionId: string, duration: string | number, mfa?: MfaProof): Promise<SessionStatus>;
  recheck(): Promise<ResumeReport['sessions']>;
  againRequest(sessionId: string): Promise<Omit<AccessRequest, 'reason'>>;
  on(event: 'status', listener: (status: SessionStatus) => void): unknown;
  off(event: 'status', listener: (status: SessionStatus) => void): unknown;
}

export interface DesktopApiOptions {
  settings: SettingsStore;
  secrets: SecretStore;
  /** Where desktop-only preferences live (the config dir). */
  dir: string;
  createSessionManager: (api: ApiClient, settings: SettingsStore) => SessionManagerLike;
  launchEnv: LaunchEnv;
  /** The Electron clipboard (its writeText is a promise since Electron 45); without it the renderer copies. */
  clipboard?: { writeText(text: string): void | Promise<void> };
  apiTimeoutMs?: number;
  /** Where client profiles are written (default: this user's pg_service.conf and DBeaver workspace). */
  profilePaths?: ProfilePaths;
}

/** One server's client core: kept across an expired sign-in so running sessions survive it. */
type Core = { api: ApiClient; sessions: SessionManagerLike };
type PendingMfa = { challengeId: string; api: ApiClient; mfaToken: string };

export class DesktopApi implements IpcServices, IpcEventSource {
  readonly #opts: DesktopApiOptions;
  readonly #events = new EventEmitter();
  readonly #prefs: DesktopPrefs;
  readonly #notifier: SessionNotifier;
  readonly #gates: GateFlows;
  readonly #profiles: ClientProfiles;
  #core: Core | undefined;
  #auth: AuthState = { state: 'signed-out' };
  /** A sign-in waiting for its second factor. */
  #pendingMfa: PendingMfa | undefined;
  readonly #onStatus = (status: SessionStatus) => {
    this.#notifier.update(status);
    this.#emit('session-status', status);
  };

  constructor(opts: DesktopApiOptions) {
    this.#opts = opts;
    this.#prefs = new DesktopPrefs(opts.dir);
    this.#events.setMaxListeners(100);
    this.#gates = new GateFlows((progress) => this.#emit('access-progress', progress));
    this.#profiles = new ClientProfiles(opts.profilePaths ?? profilePaths());
    this.#notifier = createSessionNotifier((n) => {
      void this.#prefs.read().then((p) => {
        if (p.notifications) this.#emit('notification', n);
      });
    });
  }

  subscribe<E extends keyof IpcEvents>(event: E, listener: Listener<E>): () => void {
    this.#events.on(event, listener);
    return () => {
      this.#events.off(event, listener);
    };
  }

  // ---- auth ----

  async 'auth.current'(): Promise<AuthState> {
    if (this.#core) return this.#auth;
    const domain = await this.#opts.settings.getDomain();
    if (!domain) return this.#auth;
    const api = this.#newApi(domain);
    if (!(await api.tokens.get())) {
      await api.close();
      return this.#setAuth({ state: 'signed-out', serverUrl: domain });
    }
    try {
      return await this.#completeSignIn(api);
    } catch (err) {
      await api.close();
      if (isSignInRequired(err)) return this.#setAuth({ state: 'signed-out', serverUrl: domain, reason: 'expired' });
      log.warn({ code: (err as GatehouseError).code }, 'could not restore the sign-in');
      return this.#setAuth({ state: 'signed-out', serverUrl: domain });
    }
  }

  async 'auth.signIn'(req: { serverUrl: string; email: string; password: string }): Promise<SignInResult> {
    const domain = normalizeDomain(req.serverUrl);
    await this.#opts.settings.setDomain(domain);
    await this.#dropPendingMfa();
    const api = this.#newApi(domain);
    try {
      const outcome = await api.login(req.email, req.password);
      if (isMfaChallenge(outcome) && outcome.mfaEnrollmentRequired) {
        // the organization requires an authenticator app: enroll here (auth.mfaEnrollStart)
        const challengeId = randomUUID();
        this.#pendingMfa = { challengeId, api, mfaToken: outcome.mfaToken };
        return { state: 'mfa-enrollment-required', challengeId };
      }
      if (isMfaChallenge(outcome)) {
        // the server's mfaToken stays here; the renderer gets an opaque id for it
        const challengeId = randomUUID();
        this.#pendingMfa = { challengeId, api, mfaToken: outcome.mfaToken };
        return { state: 'mfa-required', challengeId, methods: outcome.methods };
      }
      return await this.#completeSignIn(api);
    } catch (err) {
      await api.close();
      throw err;
    }
  }

  async 'auth.submitMfa'(req: { challengeId: string; method: MfaMethod; code: string }): Promise<SignInResult> {
    const pending = this.#pendingChallenge(req.challengeId);
    try {
      await pending.api.verifyMfa(pending.mfaToken, { method: req.method, code: req.code });
    } catch (err) {
      // a wrong code may be retried; anything else (expired challenge, lockout) starts over
      if (!hasCode(err, ErrorCodes.MFA_INVALID)) await this.#dropPendingMfa();
      throw err;
    }
    this.#pendingMfa = undefined;
    try {
      return await this.#completeSignIn(pending.api);
    } catch (err) {
      await pending.api.close();
      throw err;
    }
  }

  async 'auth.sendEmailCode'(req: { challengeId?: string }): Promise<void> {
    if (req.challengeId !== undefined) {
      const pending = this.#pendingChallenge(req.challengeId);
      await pending.api.sendEmailCode(pending.mfaToken);
      return;
    }
    const { api } = this.#requireSignIn();
    await this.#guard(() => api.sendEmailCode());
  }

  /** Ends every session (here and on the server), forgets the token. */
  async 'auth.signOut'(): Promise<void> {
    const serverUrl = this.#core?.api.domain;
    const core = this.#core;
    this.#core = undefined;
    if (core) {
      await this.#closeCore(core);
    } else if (serverUrl === undefined) {
      const domain = await this.#opts.settings.getDomain();
      if (domain) await this.#newApi(domain).tokens.set(undefined);
    }
    this.#setAuth({ state: 'signed-out', serverUrl, reason: 'signed-out' });
  }

  async 'auth.mfaEnrollStart'({ challengeId }: { challengeId?: string }): Promise<MfaEnrollment> {
    const enrollment =
      challengeId !== undefined
        ? await this.#pendingChallenge(challengeId).api.enrollTotpWithChallenge(this.#pendingChallenge(challengeId).mfaToken)
        : await this.#guard(() => this.#requireSignIn().api.enrollTotp());
    return { otpauthUrl: enrollment.otpauthUrl, qrDataUrl: enrollment.qrDataUrl, secret: enrollment.secret };
  }

  /** Confirms with a first code: the recovery codes come back once (and, during a sign-in, the sign-in completes). */
  async 'auth.mfaEnrollConfirm'({ code, challengeId }: { code: string; challengeId?: string }): Promise<MfaEnrollmentDone> {
    if (challengeId === undefined) {
      const { api } = this.#requireSignIn();
      return { recoveryCodes: await this.#guard(() => api.confirmTotp(code)) };
    }
    const pending = this.#pendingChallenge(challengeId);
    const result = await pending.api.confirmTotpWithChallenge(pending.mfaToken, code);
    this.#pendingMfa = undefined;
    try {
      return { recoveryCodes: result.recoveryCodes, auth: await this.#completeSignIn(pending.api) };
    } catch (err) {
      await pending.api.close();
      throw err;
    }
  }

  async 'auth.profile'(): Promise<ProfileInfo> {
    const { api, state } = this.#requireSignIn();
    const mfa = await this.#guard(() => api.mfaStatus());
    return {
      user: state.user,
      serverUrl: state.serverUrl,
      mfa: { totp: mfa.totp, recoveryCodesLeft: mfa.recoveryCodesLeft, enforce: mfa.enforce, emailAvailable: mfa.emailAvailable, methods: mfa.methods },
    };
  }

  // ---- accounts ----

  async 'accounts.list'(): Promise<AccountGroup[]> {
    const { api, state } = this.#requireSignIn();
    const groups = new Map<string, AccountGroup>();
    for (const project of state.projects) {
      const accounts = await this.#guard(() => api.listAccessibleAccounts(project.id));
      for (const a of accounts) {
        const key = `${project.id}/${a.resource.id}`;
        let group = groups.get(key);
        if (!group) {
          group = { projectId: project.id, projectName: project.name, resource: a.resource, accounts: [] };
          groups.set(key, group);
        }
        const port = await this.#opts.settings.rememberedPort({ domain: api.domain, projectId: project.id, resource: a.resource.name, account: a.name });
        group.accounts.push({
          id: a.id,
          name: a.name,
          description: a.description ?? '',
          username: a.username,
          requireMfa: a.requireMfa,
          requireApproval: a.requireApproval === true,
          port,
          ...(typeof a.maxDurationSeconds === 'number' && { maxDurationSeconds: a.maxDurationSeconds }),
          gateway: { status: a.gateway?.connected === true ? 'connected' : 'offline', lastSeenAt: a.gateway?.lastSeenAt ?? null },
        });
      }
    }
    return [...groups.values()].sort((x, y) => x.resource.name.localeCompare(y.resource.name));
  }

  // ---- sessions ----

  /** Refusals come back with their details: MFA_REQUIRED (challenge), APPROVAL_REQUIRED, POLICY_DENIED. */
  async 'sessions.start'(req: AccessRequest): Promise<SessionStatus> {
    const { sessions } = this.#requireSignIn();
    const { reason: _reason, ...access } = req;
    const started = await this.#guard(() => sessions.start(access));
    await this.#refreshProfiles(started);
    return started;
  }

  /** Extends in place; MFA_REQUIRED (with its challenge) when the account wants a fresh code: call again with `mfa`. */
  async 'sessions.extend'({ sessionId, duration, mfa }: { sessionId: string; duration: string | number; mfa?: MfaProof }): Promise<SessionStatus> {
    this.#runningSession(sessionId);
    return this.#guard(() => this.#core!.sessions.extend(sessionId, duration, mfa));
  }

  async 'sessions.accessAgain'({ sessionId, flowId }: { sessionId: string; flowId: string }): Promise<GateOutcome> {
    const { sessions } = this.#requireSignIn();
    const again = await this.#guard(() => sessions.againRequest(sessionId));
    return this['access.begin']({ ...again, flowId });
  }

  /** Starts access through the gate (MFA, approval); its steps go out as `access-progress` events. */
  async 'access.begin'(req: AccessRequest & { flowId: string }): Promise<GateOutcome> {
    const { api, sessions } = this.#requireSignIn();
    const { flowId, reason, accessRequestId, ...access } = req;
    const outcome = await this.#guard(() =>
      this.#gates.run(flowId, { api, start: (r) => sessions.start(r) }, access, {
        ...(reason !== undefined && { reason }),
        ...(accessRequestId !== undefined && { requestId: accessRequestId }),
      }),
    );
    if (outcome.outcome === 'started') await this.#refreshProfiles(outcome.session);
    return outcome;
  }

  'access.answer'(req: { flowId: string; mfa?: MfaProof; reason?: string }): Promise<void> {
    this.#gates.answer(req.flowId, req);
    return Promise.resolve();
  }

  'access.cancel'({ flowId }: { flowId: string }): Promise<void> {
    this.#gates.cancel(flowId);
    return Promise.resolve();
  }

  // ---- client profiles ----

  'profiles.list'(): Promise<ClientProfile[]> {
    return this.#profiles.list();
  }

  /** Writes the account's psql service and DBeaver connection on its stable port. */
  async 'profiles.write'(target: ProfileTarget): Promise<ClientProfile[]> {
    return this.#profiles.write(await this.#profileAccount(target), target.kinds);
  }

  async 'profiles.remove'(target: ProfileTarget): Promise<ClientProfile[]> {
    return this.#profiles.remove(target, target.kinds);
  }

  // ---- the computer woke up / the network changed (from the shell) ----

  /** Re-checks every running session now (server and tunnel), then tells the renderer what happened. */
  async systemResumed(cause: ResumeReport['cause']): Promise<ResumeReport> {
    const sessions = this.#core ? await this.#core.sessions.recheck() : [];
    const report: ResumeReport = { cause, at: new Date().toISOString(), sessions };
    log.info({ cause, sessions: sessions.map((s) => s.outcome) }, 'after resume');
    this.#emit('system-resumed', report);
    return report;
  }

  // ---- access requests ----

  async 'requests.create'(req: NewAccessRequest): Promise<AccessRequestInfo> {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.createAccessRequest(req));
  }

  async 'requests.get'({ id }: { id: string }): Promise<AccessRequestInfo> {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.getAccessRequest(id));
  }

  async 'requests.list'(query: { status?: AccessRequestState; mine?: boolean }): Promise<AccessRequestInfo[]> {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.listAccessRequests(query));
  }

  async 'requests.approve'({ id, comment }: { id: string; comment?: string }): Promise<AccessRequestInfo> {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.approveAccessRequest(id, comment));
  }

  async 'requests.deny'({ id, comment }: { id: string; comment?: string }): Promise<AccessRequestInfo> {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.denyAccessRequest(id, comment));
  }

  async 'sessions.stop'({ sessionId }: { sessionId: string }): Promise<void> {
    this.#runningSession(sessionId);
    await this.#guard(() => this.#core!.sessions.stop(sessionId));
  }

  'sessions.list'(): Promise<SessionStatus[]> {
    return Promise.resolve(this.#core?.sessions.list() ?? []);
  }

  async 'ports.set'(req: { projectId: string; resource: string; account: string; port: number }): Promise<void> {
    const { api } = this.#requireSignIn();
    await this.#opts.settings.setPort({ domain: api.domain, ...req }, req.port);
    // saved clients follow the account's port
    const existing = (await this.#profiles.list()).find((p) => p.resource === req.resource && p.account === req.account);
    if (existing) await this.#profiles.refresh({ ...existing, port: req.port });
  }

  // ---- clients ----

  async 'clients.openPsql'({ sessionId }: { sessionId: string }): Promise<void> {
    const launchers = await this.#opts.settings.launchers();
    await openPsql(this.#connection(sessionId), this.#opts.launchEnv, { psqlPath: launchers.psql });
  }

  async 'clients.openDbeaver'({ sessionId }: { sessionId: string }): Promise<void> {
    const launchers = await this.#opts.settings.launchers();
    await openDbeaver(this.#connection(sessionId), this.#opts.launchEnv, { dbeaverPath: launchers.dbeaver });
  }

  async 'clients.copyJdbcUrl'({ sessionId }: { sessionId: string }): Promise<{ url: string; copied: boolean }> {
    const url = jdbcUrl(this.#connection(sessionId));
    if (!this.#opts.clipboard) return { url, copied: false };
    await this.#opts.clipboard.writeText(url);
    return { url, copied: true };
  }

  // ---- history ----

  async 'history.list'({ limit = 50 }: { limit?: number }) {
    const { api } = this.#requireSignIn();
    const sessions = await this.#guard(() => api.listSessions());
    return sessions
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit)
      .map((s) => ({ ...s, endedAt: s.endedAt ?? undefined }));
  }

  async 'history.events'({ sessionId, after, limit }: { sessionId: string; after?: number; limit?: number }) {
    const { api } = this.#requireSignIn();
    return this.#guard(() => api.sessionLogs(sessionId, { after, limit }));
  }

  // ---- settings ----

  async 'settings.get'(): Promise<DesktopSettings> {
    const [serverUrl, launchers, prefs] = await Promise.all([this.#opts.settings.getDomain(), this.#opts.settings.launchers(), this.#prefs.read()]);
    return { serverUrl, psqlPath: launchers.psql, dbeaverPath: launchers.dbeaver, notifications: prefs.notifications, ports: {} };
  }

  async 'settings.set'(patch: Partial<Omit<DesktopSettings, 'ports'>>): Promise<DesktopSettings> {
    const s = this.#opts.settings;
    if (patch.serverUrl !== undefined) await s.setDomain(patch.serverUrl ? normalizeDomain(patch.serverUrl) : undefined);
    if (patch.psqlPath !== undefined) await s.setLauncherPath('psql', patch.psqlPath || undefined);
    if (patch.dbeaverPath !== undefined) await s.setLauncherPath('dbeaver', patch.dbeaverPath || undefined);
    if (patch.notifications !== undefined) await this.#prefs.update({ notifications: patch.notifications });
    return this['settings.get']();
  }

  // ---- lifecycle (used by the shell, not the renderer) ----

  /** Quit: ends every running session cleanly. Idempotent. */
  async close(): Promise<void> {
    this.#notifier.close();
    this.#gates.cancelAll();
    await this.#dropPendingMfa();
    const core = this.#core;
    this.#core = undefined;
    if (core) await this.#closeCore(core, { logout: false });
    this.#events.removeAllListeners();
  }

  // ---- plumbing ----

  /** An account's connection details for its profiles: its stable port, database and user name. */
  async #profileAccount(target: ProfileTarget): Promise<ProfileAccount> {
    const { api } = this.#requireSignIn();
    const accounts = await this.#guard(() => api.listAccessibleAccounts(target.projectId));
    const a = accounts.find(
      (x) => (x.resource.name === target.resource || x.resource.id === target.resource) && (x.name === target.account || x.id === target.account),
    );
    if (!a) throw new GatehouseError(ErrorCodes.NOT_FOUND, `no account "${target.account}" on "${target.resource}" that you may access in this project`);
    const port = await this.#opts.settings.portFor(api.domain, target.projectId, a.resource.name, a.name);
    return { projectId: target.projectId, resource: a.resource.name, account: a.name, port, database: a.resource.database, username: a.username };
  }

  /** A session started: profiles written for its account follow its port. */
  async #refreshProfiles(s: SessionStatus): Promise<void> {
    await this.#profiles
      .refresh({ projectId: s.projectId, resource: s.resourceName, account: s.accountName, port: s.port, database: s.database, username: s.username })
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not refresh the client profiles'));
  }

  #pendingChallenge(challengeId: string): PendingMfa {
    const pending = this.#pendingMfa;
    if (!pending || pending.challengeId !== challengeId) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'this sign-in is no longer waiting for a code; sign in again');
    }
    return pending;
  }

  async #dropPendingMfa(): Promise<void> {
    const pending = this.#pendingMfa;
    this.#pendingMfa = undefined;
    if (pending) await pending.api.close();
  }

  #newApi(domain: string): ApiClient {
    return new ApiClient({ domain, tokens: new SecretStoreTokenProvider(this.#opts.secrets, domain), timeoutMs: this.#opts.apiTimeoutMs });
  }

  async #completeSignIn(api: ApiClient): Promise<Extract<AuthState, { state: 'signed-in' }>> {
    const me = await api.me();
    if (this.#core && this.#core.api.domain === api.domain) {
      // signing in again after the token expired: the running sessions carry on
      // (their client reads the new token from the secret store)
      await api.close();
    } else {
      if (this.#core) await this.#closeCore(this.#core, { logout: false });
      const sessions = this.#opts.createSessionManager(api, this.#opts.settings);
      sessions.on('status', this.#onStatus);
      this.#core = { api, sessions };
    }
    const state = { state: 'signed-in' as const, serverUrl: api.domain, user: me.user, projects: me.projects };
    this.#setAuth(state);
    return state;
  }

  /** Runs an API call; a lost sign-in sends the person back to sign in, sessions intact. */
  async #guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isSignInRequired(err) && this.#auth.state === 'signed-in') {
        this.#setAuth({ state: 'signed-out', serverUrl: this.#auth.serverUrl, reason: 'expired' });
      }
      throw err;
    }
  }

  #requireSignIn(): Core & { state: Extract<AuthState, { state: 'signed-in' }> } {
    if (!this.#core || this.#auth.state !== 'signed-in') throw new GatehouseError(ErrorCodes.NOT_SIGNED_IN, 'not signed in; sign in first');
    return { ...this.#core, state: this.#auth };
  }

  #runningSession(sessionId: string): SessionStatus {
    const s = this.#core?.sessions.list().find((x) => x.sessionId === sessionId);
    if (!s) throw new GatehouseError(ErrorCodes.NOT_FOUND, 'no such running session');
    return s;
  }

  #connection(sessionId: string): LocalConnection {
    const s = this.#runningSession(sessionId);
    if (s.state !== 'ready') throw new GatehouseError(ErrorCodes.SESSION_ENDED, 'this session is not running; start access again');
    return { host: s.host, port: s.port, database: s.database, username: s.username, url: s.url, label: `${s.resourceName} / ${s.accountName}` };
  }

  async #closeCore(core: Core, opts: { logout?: boolean } = {}): Promise<void> {
    await core.sessions.close().catch((err) => log.warn({ err }, 'closing sessions failed'));
    core.sessions.off('status', this.#onStatus);
    if (opts.logout !== false) await core.api.logout();
    await core.api.close();
  }

  /** A `gatehouse://access?…` link the OS handed the app: tells the renderer what to open, or why not. */
  openAccessLink(url: string): void {
    this.#emit('open-access', resolveAccessLink(url, this.#auth.state === 'signed-in' ? this.#auth.serverUrl : undefined));
  }

  #setAuth(state: AuthState): AuthState {
    this.#auth = state;
    this.#emit('auth-changed', state);
    return state;
  }

  #emit<E extends keyof IpcEvents>(event: E, payload: IpcEvents[E]): void {
    this.#events.emit(event, payload);
  }
}

export type { AppNotification };
