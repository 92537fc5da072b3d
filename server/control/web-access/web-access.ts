/**
 * Web Access (issue 12): web sessions for the browser's Data Explorer and SQL terminal.
 * A web session is a session of kind `web` opened through `SessionService.create` (policy,
 * maximum duration, MFA, approval, exactly as for the CLI), with a key pair made and kept
 * here; this replica then becomes its PostgreSQL client through the relay and the gateway
 * (web-tunnel.ts). The browser gets ids, limits and results, never a password or a key.
 */
import { createLogger } from '../../../proxy-core/src/log.ts';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/keys.ts';
import { notFound } from '../api/errors.ts';
import type { SessionService } from '../sessions.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import type { WebAccessLimits } from './limits.ts';
import { endMessage, endedError, WebSession, type WebEndReason, type WebSessionEnd } from './web-session.ts';
import { WebTunnel } from './web-tunnel.ts';

const log = createLogger('web-access');

/** How long the reason a web session ended is remembered for its late requests. */
const TOMBSTONE_MS = 10 * 60_000;
const MAX_TOMBSTONES = 10_000;

export interface CreateWebSessionInput {
  projectId: string;
  resourceId: string;
  accountId: string;
  duration: string | number;
  mfa?: { method: 'totp' | 'email'; code: string };
  accessRequestId?: string;
}

export interface WebAccessOptions {
  sessions: SessionService;
  store: Store;
  limits: WebAccessLimits;
  /** ws://host:port of this replica's own listener (known once it listens). */
  relayUrl(): string;
}

export class WebAccess {
  readonly limits: WebAccessLimits;
  readonly #options: WebAccessOptions;
  readonly #live = new Map<string, WebSession>();
  readonly #tombstones = new Map<string, { userId: string; end: WebSessionEnd; at: number }>();
  /** Creations per user run one at a time, so the per-user limit holds under concurrent requests. */
  readonly #creating = new Map<string, Promise<unknown>>();
  #sweeper: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WebAccessOptions) {
    this.#options = options;
    this.limits = options.limits;
  }

  start(): void {
    const every = Math.max(1000, Math.min(10_000, (this.limits.idleTimeoutSeconds * 1000) / 10));
    this.#sweeper = setInterval(() => void this.#sweep(), every);
    this.#sweeper.unref();
  }

  create(user: User, input: CreateWebSessionInput, authorization: string, sourceAddress: string | null): Promise<WebSession> {
    const previous = this.#creating.get(user.id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#create(user, input, authorization, sourceAddress));
    this.#creating.set(user.id, run);
    const cleanup = () => {
      if (this.#creating.get(user.id) === run) this.#creating.delete(user.id);
    };
    run.then(cleanup, cleanup);
    return run;
  }

  async #create(user: User, input: CreateWebSessionInput, authorization: string, sourceAddress: string | null): Promise<WebSession> {
    if (this.#closing) throw new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, 'the server is shutting down; try again in a moment');
    const live = await this.#options.store.sessions.countLive(user.id, 'web', new Date());
    if (live >= this.limits.maxSessionsPerUser) {
      throw new GatehouseError(
        ErrorCodes.WEB_SESSION_LIMIT,
        `you already have ${live} web session${live === 1 ? '' : 's'} open, the most one user may have (the concurrent web sessions limit, --web-max-sessions ${this.limits.maxSessionsPerUser}); end one first`,
      );
    }
    const keys = generateKeyPair();
    const created = await this.#options.sessions.create(
      user,
      {
        projectId: input.projectId,
        resource: input.resourceId,
        account: input.accountId,
        duration: input.duration,
        publicKeyPem: keys.publicKeyPem,
        kind: 'web',
        ...(input.mfa && { mfa: input.mfa }),
        ...(input.accessRequestId !== undefined && {
          accessRequestId: input.accessRequestId,
        }),
      },
      sourceAddress,
    );
    const record = created.session;
    let session: WebSession | undefined;
    try {
      const tunnel = await WebTunnel.open({
        baseUrl: this.#options.relayUrl(),
        sessionId: record.id,
        authorization,
        database: record.database,
        clientAddress: sourceAddress ?? 'web',
        tls: {
          keyPem: keys.privateKeyPem,
          certPem: created.certificatePem,
          caPem: created.caCertificatePem,
          gatewayId: created.gatewayId,
        },
        onEnd: (reason) => void this.#ended(record.id, reason === 'lost' ? 'lost' : reason),
      });
      session = new WebSession({ user, record, tunnel, limits: this.limits });
      this.#live.set(record.id, session);
      // Fail now, not at the first click: the database must answer through the gateway.
      await session.explorer();
      log.info({ sessionId: record.id, userId: user.id }, 'web session started');
      return session;
    } catch (err) {
      await this.#options.sessions.end(user, record.id, sourceAddress).catch(() => undefined);
      if (session)
        await this.#forget(session, {
          reason: 'ended',
          message: 'the web session could not reach the database',
        });
      throw err;
    }
  }

  /** The caller's live web session here; 410 with the reason once it ended; 421 when another replica holds it. */
  async get(user: User, id: string): Promise<WebSession> {
    const session = this.#live.get(id);
    if (session && session.user.id === user.id) {
      session.assertLive();
      session.touch();
      return session;
    }
    const tomb = this.#tombstones.get(id);
    if (tomb && tomb.userId === user.id) throw endedError(tomb.end);
    const record = await this.#options.store.sessions.findById(id);
    if (!record || record.userId !== user.id || record.kind !== 'web') throw notFound('web session');
    if (record.status !== 'active' || record.expiresAt.getTime() <= Date.now()) {
      const reason: WebEndReason = record.status === 'revoked' ? 'revoked' : record.status === 'ended' ? 'ended' : 'expired';
      throw endedError({ reason, message: endMessage(reason, this.limits) });
    }
    throw new GatehouseError(
      ErrorCodes.WEB_SESSION_ELSEWHERE,
      'this web session is held by another Gatehouse server replica; the load balancer must keep a browser on one replica (session affinity), or start a new web session',
    );
  }

  /** Ends the caller's web session (DELETE): in the store (audited) and here. */
  async end(user: User, id: string, sourceAddress: string | null): Promise<void> {
    const session = this.#live.get(id);
    if (!session || session.user.id !== user.id) {
      const record = await this.#options.store.sessions.findById(id);
      if (!record || record.userId !== user.id || record.kind !== 'web') throw notFound('web session');
      await this.#options.sessions.end(user, id, sourceAddress);
      return;
    }
    await this.#options.sessions.end(user, id, sourceAddress);
    await this.#ended(id, 'ended');
  }

  /** Live web sessions on this replica (tests, metrics). */
  count(): number {
    return this.#live.size;
  }

  /** Ends every web session here (in the store too: nothing of them survives the process). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      await Promise.all(
        [...this.#live.values()].map(async (session) => {
          await this.#options.sessions.end(session.user, session.id, null).catch(() => undefined);
          await this.#forget(session, {
            reason: 'shutdown',
            message: endMessage('shutdown', this.limits),
          });
        }),
      );
    })();
    return this.#closing;
  }

  async #ended(id: string, reason: WebEndReason): Promise<void> {
    const session = this.#live.get(id);
    if (!session) return;
    await this.#forget(session, {
      reason,
      message: endMessage(reason, this.limits),
    });
  }

  async #forget(session: WebSession, end: WebSessionEnd): Promise<void> {
    if (this.#live.get(session.id) === session) this.#live.delete(session.id);
    this.#tombstones.set(session.id, {
      userId: session.user.id,
      end: session.ended ?? end,
      at: Date.now(),
    });
    if (this.#tombstones.size > MAX_TOMBSTONES) this.#tombstones.delete(this.#tombstones.keys().next().value as string);
    await session.end(end);
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    for (const [id, tomb] of this.#tombstones) if (now - tomb.at > TOMBSTONE_MS) this.#tombstones.delete(id);
    for (const session of [...this.#live.values()]) {
      if (!session.isIdle(now)) continue;
      log.info({ sessionId: session.id }, 'web session idle; ending it');
      await this.#forget(session, {
        reason: 'idle',
        message: endMessage('idle', this.limits),
      });
      await this.#options.sessions
        .end(session.user, session.id, null)
        .catch((err: unknown) => log.warn({ err, sessionId: session.id }, 'could not end an idle web session in the store'));
    }
  }
}
