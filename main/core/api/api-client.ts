import type { Socket } from 'node:net';
import { Pool } from 'undici';
import type { WebSocket } from 'ws';
import { ErrorCodes, GatehouseError, serializeError, type SerializedError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';
import { STREAM_KEY_HEADER, STREAM_META_HEADER, dialDirectStream, encodeStreamMeta, sessionStreamPath } from '../../../proxy-core/src/tunnel/direct-stream.ts';
import type { StreamOpenMeta } from '../../../proxy-core/src/tunnel/meta.ts';
import { errorFromNetwork, errorFromResponse } from './api-errors.ts';
import { normalizeDomain } from './domain.ts';
import { MemoryTokenProvider } from './token-providers.ts';
import { connectWebSocket } from './tunnel-connect.ts';
import {
  isMfaChallenge,
  type AccessibleAccount,
  type AccessRequestInfo,
  type AccessRequestQuery,
  type CreateSessionRequest,
  type CreateSessionResult,
  type LoginOutcome,
  type LoginResult,
  type Me,
  type ProjectInfo,
  type MfaProof,
  type NewAccessRequest,
  type Session,
  type SessionLogsPage,
  type SessionQuery,
  type ExtendSessionRequest,
  type ExtendSessionResult,
  type MfaStatus,
  type TokenProvider,
  type Tokens,
  type TotpEnrollment,
} from './types.ts';

const log = createLogger('api-client');

export interface InvitationPreview {
  invitation: { id: string; email: string; projectId: string | null; projectName: string | null; role: string | null; expiresAt: string };
  existingAccount: boolean;
}

export interface ApiClientOptions {
  /** The control plane, e.g. `https://gatehouse.example.com` (a bare host gets https). */
  domain: string;
  tokens?: TokenProvider;
  /** Per request: time to connect, and to receive headers and body. Default 15 s. */
  timeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | undefined>;

/**
 * The control plane's HTTP API for one domain (one undici Pool). Errors are GatehouseErrors
 * with the server's code; an expired access token is refreshed once with the refresh token,
 * after which a 401 reaches the caller (who sends the person to sign in).
 */
export class ApiClient {
  readonly domain: string;
  readonly tokens: TokenProvider;
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  #refreshing: Promise<Tokens> | undefined;

  constructor(opts: ApiClientOptions) {
    this.domain = normalizeDomain(opts.domain);
    this.tokens = opts.tokens ?? new MemoryTokenProvider();
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#pool = new Pool(this.domain, {
      connections: 8,
      connect: { timeout: this.#timeoutMs },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  // --- auth -------------------------------------------------------------------------------

  /**
   * Signs in. Resolves with the tokens (kept in the token provider), or with an MFA
   * challenge when the server asks for a second factor: answer it with `verifyMfa`.
   */
  async login(email: string, password: string): Promise<LoginOutcome> {
    const result = await this.#send<LoginOutcome>('POST', '/auth/login', { body: { email, password } });
    if (result && isMfaChallenge(result)) {
      if (typeof result.mfaToken !== 'string' || !Array.isArray(result.methods)) {
        throw new GatehouseError(ErrorCodes.PROTOCOL, `the Gatehouse server at ${this.domain} sent an incomplete MFA challenge`);
      }
      return result;
    }
    await this.tokens.set(pickTokens(result));
    return result;
  }

  /**
   * Accepts an invitation: sets the password (or, for an email that already has an account,
   * checks that account's password and joins the project) and signs in (tokens kept), or answers the MFA
   * challenge the organization's rules ask for (e.g. enroll TOTP first), like `login`.
   */
  async acceptInvitation(code: string, password: string, name?: string): Promise<LoginOutcome> {
    const result = await this.#send<LoginOutcome>('POST', '/auth/accept-invitation', { body: { code, password, ...(name ? { name } : {}) } });
    if (result && isMfaChallenge(result)) return result;
    await this.tokens.set(pickTokens(result));
    return result;
  }

  /**
   * What an invitation is for, for the holder of its code (uses nothing): whether its email
   * already has an account, in which case accepting takes that account's password.
   */
  async previewInvitation(code: string): Promise<InvitationPreview> {
    return this.#send<InvitationPreview>('POST', '/auth/accept-invitation/preview', { body: { code } });
  }

  /** Completes a sign-in that asked for MFA; keeps the tokens. */
  async verifyMfa(mfaToken: string, proof: MfaProof): Promise<LoginResult> {
    const result = await this.#send<LoginResult>('POST', '/auth/mfa/verify', { body: { mfaToken, method: proof.method, code: proof.code } });
    await this.tokens.set(pickTokens(result));
    return result;
  }

  /**
   * Mails a one-time code: during sign-in (with the challenge's `mfaToken`), or, signed in,
   * for a session on an account that requires MFA.
   */
  async sendEmailCode(mfaToken?: string): Promise<void> {
    if (mfaToken !== undefined) await this.#send('POST', '/auth/mfa/email/send', { body: { mfaToken } });
    else await this.#authorized('POST', '/me/mfa/email/send', { body: {} });
  }

  // --- MFA enrollment -----------------------------------------------------------------------

  /** Enrollment during a sign-in that must enroll first (`mfaEnrollmentRequired`). */
  enrollTotpWithChallenge(mfaToken: string): Promise<TotpEnrollment> {
    return this.#send('POST', '/auth/mfa/totp/enroll', { body: { mfaToken } });
  }

  /** Confirms that enrollment: the sign-in completes (tokens kept) and the recovery codes come back once. */
  async confirmTotpWithChallenge(mfaToken: string, code: string): Promise<LoginResult & { recoveryCodes: string[] }> {
    const result = await this.#send<LoginResult & { recoveryCodes: string[] }>('POST', '/auth/mfa/totp/confirm', { body: { mfaToken, code } });
    await this.tokens.set(pickTokens(result));
    return result;
  }

  enrollTotp(): Promise<TotpEnrollment> {
    return this.#authorized('POST', '/me/mfa/totp/enroll', { body: {} });
  }

  /** Confirms enrollment with a first code; resolves with the ten recovery codes (shown once). */
  async confirmTotp(code: string): Promise<string[]> {
    return (await this.#authorized<{ recoveryCodes: string[] }>('POST', '/me/mfa/totp/confirm', { body: { code } })).recoveryCodes;
  }

  mfaStatus(): Promise<MfaStatus> {
    return this.#authorized('GET', '/me/mfa');
  }

  async removeTotp(code: string): Promise<void> {
    await this.#authorized('DELETE', '/me/mfa/totp', { body: { code } });
  }

  // --- access requests ----------------------------------------------------------------------

  async createAccessRequest(req: NewAccessRequest): Promise<AccessRequestInfo> {
    return (await this.#authorized<{ request: AccessRequestInfo }>('POST', '/access-requests', { body: req })).request;
  }

  async getAccessRequest(id: string): Promise<AccessRequestInfo> {
    return (await this.#authorized<{ request: AccessRequestInfo }>('GET', `/access-requests/${enc(id)}`)).request;
  }

  async listAccessRequests(query: AccessRequestQuery = {}): Promise<AccessRequestInfo[]> {
    const q: Query = { projectId: query.projectId, status: query.status, mine: query.mine === undefined ? undefined : String(query.mine) };
    return (await this.#authorized<{ requests: AccessRequestInfo[] }>('GET', '/access-requests', { query: q })).requests;
  }

  async approveAccessRequest(id: string, comment?: string): Promise<AccessRequestInfo> {
    return (await this.#authorized<{ request: AccessRequestInfo }>('POST', `/access-requests/${enc(id)}/approve`, { body: comment ? { comment } : {} }))
      .request;
  }

  async denyAccessRequest(id: string, comment?: string): Promise<AccessRequestInfo> {
    return (await this.#authorized<{ request: AccessRequestInfo }>('POST', `/access-requests/${enc(id)}/deny`, { body: comment ? { comment } : {} })).request;
  }

  /** Trades the refresh token for new tokens (deduplicated when several calls need it). */
  refresh(): Promise<Tokens> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Forgets the tokens here, and tells the server when it can be reached. */
  async logout(): Promise<{ revokedOnServer: boolean; error?: SerializedError }> {
    const tokens = await this.tokens.get();
    try {
      if (!tokens) return { revokedOnServer: false };
      await this.#send('POST', '/auth/logout', { body: { refreshToken: tokens.refreshToken }, accessToken: tokens.accessToken });
      return { revokedOnServer: true };
    } catch (err) {
      return { revokedOnServer: false, error: serializeError(err) };
    } finally {
      await this.tokens.set(undefined);
    }
  }

  // --- resources ----------------------------------------------------------------------------

  me(): Promise<Me> {
    return this.#authorized('GET', '/me');
  }

  /** The projects the caller belongs to, with their role there (instance admins: all). */
  async listProjects(): Promise<ProjectInfo[]> {
    return (await this.#authorized<{ projects: ProjectInfo[] }>('GET', '/projects')).projects;
  }

  async listAccessibleAccounts(projectId: string): Promise<AccessibleAccount[]> {
    const r = await this.#authorized<{ accounts: AccessibleAccount[] }>('GET', `/projects/${enc(projectId)}/accounts`);
    return r.accounts;
  }

  async createSession(req: CreateSessionRequest): Promise<CreateSessionResult> {
    const r = await this.#authorized<CreateSessionResult>('POST', '/sessions', { body: req });
    if (!r?.session?.id || !r.certificatePem || !r.caCertificatePem || !r.gatewayId) {
      throw new GatehouseError(ErrorCodes.PROTOCOL, `the Gatehouse server at ${this.domain} sent an incomplete session`);
    }
    return r;
  }

  async getSession(id: string): Promise<Session> {
    return (await this.#authorized<{ session: Session }>('GET', `/sessions/${enc(id)}`)).session;
  }

  /**
   * Extends a running session in place: a later expiry (within the policy) and a new
   * certificate for the same key, valid until then.
   */
  async extendSession(id: string, req: ExtendSessionRequest): Promise<ExtendSessionResult> {
    const r = await this.#authorized<ExtendSessionResult>('POST', `/sessions/${enc(id)}/extend`, { body: req });
    if (!r?.session?.id || !r.certificatePem) throw new GatehouseError(ErrorCodes.PROTOCOL, `the Gatehouse server at ${this.domain} sent an incomplete answer`);
    return r;
  }

  async endSession(id: string): Promise<Session> {
    return (await this.#authorized<{ session: Session }>('POST', `/sessions/${enc(id)}/end`, { body: {} })).session;
  }

  async listSessions(query: SessionQuery = {}): Promise<Session[]> {
    return (await this.#authorized<{ sessions: Session[] }>('GET', '/sessions', { query: { ...query } })).sessions;
  }

  /** A page after `after`, or with `tail` the newest events (oldest first). */
  sessionLogs(id: string, page: { after?: number; limit?: number; tail?: number } = {}): Promise<SessionLogsPage> {
    return this.#authorized('GET', `/sessions/${enc(id)}/logs`, { query: page });
  }

  /**
   * The session's tunnel: a WebSocket (no permessage-deflate) opened with the bearer token.
   * It resolves paused; the caller calls `ws.resume()` once its listeners are attached.
   */
  openTunnel(sessionId: string): Promise<WebSocket> {
    const url = new URL(`/api/v1/sessions/${enc(sessionId)}/tunnel`, this.domain);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return this.#withToken((accessToken) => connectWebSocket({ url: url.href, domain: this.domain, accessToken, timeoutMs: this.#timeoutMs }));
  }

  /**
   * Opens a direct stream of the session (proxy-core/src/tunnel/direct-stream.ts) with the key
   * its tunnel received: a socket of its own through the relay to the gateway. A refusal rejects
   * with the server's error; DIRECT_STREAM_UNAVAILABLE means "use the tunnel".
   */
  async openDirectStream(sessionId: string, streamKey: string, meta: StreamOpenMeta): Promise<Socket> {
    const url = new URL(sessionStreamPath(sessionId), this.domain);
    try {
      return await dialDirectStream(url.href, {
        headers: { [STREAM_KEY_HEADER]: streamKey, [STREAM_META_HEADER]: encodeStreamMeta(meta) },
        timeoutMs: this.#timeoutMs,
        refusal: (status, body) => errorFromResponse(this.domain, status, body),
      });
    } catch (err) {
      throw errorFromNetwork(this.domain, err);
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#pool.close().catch(() => this.#pool.destroy());
  }

  // --- plumbing -----------------------------------------------------------------------------

  #authorized<T>(method: Method, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<T> {
    return this.#withToken((accessToken) => this.#send<T>(method, path, { ...opts, accessToken }));
  }

  /** Runs `call` with the access token; on TOKEN_EXPIRED refreshes once and runs it again. */
  async #withToken<T>(call: (accessToken: string) => Promise<T>): Promise<T> {
    const tokens = await this.tokens.get();
    if (!tokens) {
      throw new GatehouseError(ErrorCodes.NOT_SIGNED_IN, `not signed in to ${this.domain}; sign in first`);
    }
    try {
      return await call(tokens.accessToken);
    } catch (err) {
      if ((err as GatehouseError).code !== ErrorCodes.TOKEN_EXPIRED) throw err;
    }
    const fresh = await this.refresh();
    return call(fresh.accessToken);
  }

  async #refresh(): Promise<Tokens> {
    const before = await this.tokens.get();
    if (!before) throw new GatehouseError(ErrorCodes.NOT_SIGNED_IN, `not signed in to ${this.domain}; sign in first`);
    try {
      const result = await this.#send<LoginResult>('POST', '/auth/refresh', { body: { refreshToken: before.refreshToken } });
      const tokens = pickTokens(result);
      await this.tokens.set(tokens);
      return tokens;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status !== 401 && status !== 403) throw err;
      // another process (the desktop app, another CLI) may have rotated the token meanwhile
      const now = await this.tokens.get();
      if (now && now.refreshToken !== before.refreshToken) return now;
      log.info({ domain: this.domain }, 'refresh token refused; signing out locally');
      await this.tokens.set(undefined);
      throw new GatehouseError(ErrorCodes.UNAUTHENTICATED, `your sign-in to ${this.domain} has expired; sign in again`, { cause: err });
    }
  }

  async #send<T>(method: Method, path: string, opts: { body?: unknown; query?: Query; accessToken?: string }): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.accessToken) headers.authorization = `Bearer ${opts.accessToken}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let statusCode: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const res = await this.#pool.request({ method, path: `/api/v1${path}${queryString(opts.query)}`, headers, body });
      statusCode = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      text = await res.body.text();
    } catch (err) {
      throw errorFromNetwork(this.domain, err);
    }
    if (statusCode >= 400) throw errorFromResponse(this.domain, statusCode, text, retryAfter);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new GatehouseError(ErrorCodes.PROTOCOL, `the Gatehouse server at ${this.domain} sent a response that is not JSON`);
    }
  }
}

function pickTokens(r: LoginResult): Tokens {
  if (typeof r?.accessToken !== 'string' || typeof r.refreshToken !== 'string') {
    throw new GatehouseError(ErrorCodes.PROTOCOL, 'the server did not send tokens');
  }
  return { accessToken: r.accessToken, refreshToken: r.refreshToken, expiresAt: r.expiresAt };
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
