import { EventEmitter } from 'node:events';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { LocalProxy } from '../../../proxy-core/src/local/index.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/certs.ts';
import { generateLocalPassword } from '../../../proxy-core/src/local/local-password.ts';
import type { ApiClient } from '../api/api-client.ts';
import { isPortFree } from '../settings/port-allocation.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import { AccessSession, portInUse } from './access-session.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { CreateAccessProxy } from './local-proxy-port.ts';
import type { AccessRequest, AccessStatus, RecheckOutcome, TunnelNotice } from './types.ts';
import type { MfaProof } from '../api/types.ts';

export interface SessionManagerOptions {
  api: ApiClient;
  settings: SettingsStore;
  /** Tunnel reconnect backoff. */
  backoff?: BackoffOptions;
  /** Minimum time between two 'status' events of one session. Default 250 ms (≤ 4/s). */
  statusIntervalMs?: number;
  /** See AccessSessionOptions.endedLingerMs (default 0). */
  endedLingerMs?: number;
  /** How local proxies are made; proxy-core's LocalProxy by default. */
  createProxy?: CreateAccessProxy;
}

const defaultCreateProxy: CreateAccessProxy = (opts) => new LocalProxy(opts);

/**
 * Starts and stops access sessions for the signed-in user: for each one a key pair, a
 * session on the control plane, its tunnel and a local proxy on the account's stable port.
 * Emits 'status' (AccessStatus), throttled per session.
 */
export class SessionManager extends EventEmitter<{ status: [AccessStatus]; tunnel: [TunnelNotice]; extended: [AccessStatus] }> {
  readonly #api: ApiClient;
  readonly #settings: SettingsStore;
  readonly #backoff: BackoffOptions;
  readonly #statusIntervalMs: number;
  readonly #endedLingerMs: number;
  readonly #createProxy: CreateAccessProxy;
  readonly #sessions = new Map<string, AccessSession>();
  #closed = false;

  constructor(opts: SessionManagerOptions) {
    super();
    this.#api = opts.api;
    this.#settings = opts.settings;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#statusIntervalMs = opts.statusIntervalMs ?? 250;
    this.#endedLingerMs = opts.endedLingerMs ?? 0;
    this.#createProxy = opts.createProxy ?? defaultCreateProxy;
  }

  /**
   * Resolves once the local proxy listens (state 'ready'). With `req.localPassword`, the
   * generated password is in this answer only (to print once), never in status events.
   */
  /** The public key of a session on this machine (to extend it from another process). */
  publicKeyOf(sessionId: string): string | undefined {
    return this.#sessions.get(sessionId)?.publicKeyPem;
  }

  async start(req: AccessRequest): Promise<AccessStatus & { localPassword?: string }> {
    if (this.#closed) throw new GatehouseError(ErrorCodes.INVALID_INPUT, 'the session manager is closed');
    const domain = this.#api.domain;
    const key = { domain, projectId: req.projectId, resource: req.resource, account: req.account };
    const port = req.port ?? (await this.#settings.portFor(domain, req.projectId, req.resource, req.account));
    if (!(await isPortFree(port))) throw portInUse(port); // before a session exists on the server

    const keyPair = generateKeyPair();
    const localPassword = req.localPassword === true ? generateLocalPassword() : undefined;
    const created = await this.#api.createSession({
      projectId: req.projectId,
      resource: req.resource,
      account: req.account,
      duration: req.duration,
      publicKeyPem: keyPair.publicKeyPem,
      ...(req.mfa ? { mfa: req.mfa } : {}),
      ...(req.accessRequestId ? { accessRequestId: req.accessRequestId } : {}),
    });
    const session = new AccessSession({
      api: this.#api,
      created,
      keyPair,
      port,
      createProxy: this.#createProxy,
      backoff: this.#backoff,
      statusIntervalMs: this.#statusIntervalMs,
      endedLingerMs: this.#endedLingerMs,
      duration: req.duration,
      ...(localPassword !== undefined && { localPassword }),
    });
    session.on('status', (status) => this.emit('status', status));
    session.on('tunnel', (notice) => this.emit('tunnel', notice));
    session.on('extended', (status) => this.emit('extended', status));
    this.#sessions.set(session.id, session);
    try {
      await session.open();
    } catch (err) {
      await session.finish('error', { endOnServer: true, error: err });
      this.#sessions.delete(session.id);
      throw err;
    }
    if (req.port !== undefined) await this.#settings.setPort(key, req.port);
    await this.#settings.setLastProject(domain, req.projectId);
    return { ...session.status(), ...(localPassword !== undefined && { localPassword }) };
  }

  /** Ends the session on the server and closes its proxy and tunnel. */
  async stop(sessionId: string): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new GatehouseError(ErrorCodes.NOT_FOUND, `no access session ${sessionId} on this machine`);
    await session.finish('stopped', { endOnServer: true });
  }

  /** Extends a running session in place (see AccessSession.extend). */
  async extend(sessionId: string, duration: string | number, mfa?: MfaProof): Promise<AccessStatus> {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new GatehouseError(ErrorCodes.NOT_FOUND, `no access session ${sessionId} on this machine`);
    return session.extend(duration, mfa);
  }

  /**
   * After the computer woke up or the network changed: every running session is re-checked
   * with the server and its tunnel probed (and replaced) at once, before a query fails.
   */
  async recheck(): Promise<RecheckOutcome[]> {
    const live = [...this.#sessions.values()].filter((s) => s.state === 'ready');
    return Promise.all(live.map((s) => s.recheck()));
  }

  /**
   * What to start to get an ended session's access again: its project, resource, account
   * and duration (from this machine, else from the server).
   */
  async againRequest(sessionId: string): Promise<AccessRequest> {
    const local = this.#sessions.get(sessionId)?.status();
    if (local && local.state !== 'ended' && local.state !== 'error') {
      throw new GatehouseError(ErrorCodes.CONFLICT, `session ${sessionId} is still running on this machine; extend it instead`);
    }
    const s = await this.#api.getSession(sessionId);
    if (s.status === 'active' && Date.parse(s.expiresAt) > Date.now() && !local) {
      throw new GatehouseError(ErrorCodes.CONFLICT, `session ${sessionId} is still active; extend it instead`);
    }
    const seconds = Math.max(60, Math.round((Date.parse(s.expiresAt) - Date.parse(s.createdAt)) / 1000));
    return { projectId: s.projectId, resource: s.resource.name, account: s.account.name, duration: local?.duration ?? seconds };
  }

  list(): AccessStatus[] {
    return [...this.#sessions.values()].map((s) => s.status());
  }

  /** Stops every session (ending them on the server); idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#sessions.values()].map((s) => s.finish('stopped', { endOnServer: true })));
  }
}
