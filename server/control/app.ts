/**
 * The control plane: store, keys, CA, auth, HTTP API and the relay, wired together.
 * `start()` listens; `close()` is idempotent and stops everything in reverse order.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../proxy-core/src/log.ts';
import { DIRECT_STREAM_PROTOCOL, GATEWAY_STREAM_PATH, SESSION_STREAM_PATH } from '../../proxy-core/src/tunnel/direct-stream.ts';
import { Cluster } from './cluster/cluster.ts';
import { Relay, type SessionEndReason } from './relay/relay.ts';
import { answerClientError } from './api/client-error.ts';
import { createRequestHandler } from './api/dispatcher.ts';
import { parseRequestTarget } from './api/request-target.ts';
import { refusalFor, rejectUpgrade } from './relay/http-reject.ts';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { AccessEvaluator } from './access/access-evaluator.ts';
import { AccessRequestService } from './access/access-requests.ts';
import { UserService } from './access/users.ts';
import { accessRequestRoutes } from './api/routes/access-requests.ts';
import { groupRoutes } from './api/routes/groups.ts';
import { policyRoutes } from './api/routes/policies.ts';
import { userRoutes } from './api/routes/users.ts';
import { authRoutes } from './api/routes/auth.ts';
import { gatewayRoutes } from './api/routes/gateways.ts';
import { projectRoutes } from './api/routes/projects.ts';
import { resourceRoutes } from './api/routes/resources.ts';
import { sessionRoutes } from './api/routes/sessions.ts';
import { systemRoutes } from './api/routes/system.ts';
import type { AnyRoute } from './api/route.ts';
import type { Services } from './api/services.ts';
import { createAudit } from './audit.ts';
import { CheckpointSigner } from './audit/checkpoint.ts';
import { AuditCheckpointer } from './audit/checkpointer.ts';
import { createMfaServices } from './auth/mfa/wire.ts';
import { auditRoutes } from './api/routes/audit.ts';
import { consoleRoutes } from './api/routes/console.ts';
import { cookieAuthRoutes } from './api/routes/cookie-auth.ts';
import { withConsole } from './console/console-handler.ts';
import { CookieSession } from './console/cookie-session.ts';
import { mfaRoutes } from './api/routes/mfa.ts';
import { AuthService } from './auth/auth-service.ts';
import { Permissions } from './auth/permissions.ts';
import { loadOrCreateCa } from './ca.ts';
import { resolveConfig, type ControlPlaneConfig } from './config.ts';
import { deriveKeys } from './crypto/keys.ts';
import { loadRootKey } from './crypto/root-key.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { ExpiryScheduler } from './expiry-scheduler.ts';
import { GatewayService } from './gateways.ts';
import { createMetrics } from './metrics.ts';
import { createRelayDeps } from './relay-deps.ts';
import { Retention } from './retention.ts';
import { SessionService } from './sessions.ts';
import { openStore, storeTarget, type Store } from './store/store.ts';
import { createCredentials } from './credentials/wire.ts';
import type { CredentialScheduler } from './credentials/scheduler.ts';
import type { RotationFaults } from './credentials/credential-service.ts';
import { credentialRoutes } from './api/routes/credentials.ts';
import { webAccessRoutes } from './api/routes/web-access.ts';
import { webAccessLimits } from './web-access/limits.ts';
import { TerminalEndpoint, TERMINAL_PATH } from './web-access/terminal/terminal-endpoint.ts';
import { WebAccess } from './web-access/web-access.ts';

const log = createLogger('control-plane');

const GATEWAY_LINK_PATH = '/api/v1/gateways/link';
const SESSION_TUNNEL_PATH = /^\/api\/v1\/sessions\/([A-Za-z0-9._~-]{1,128})\/tunnel$/;
const CLOSE_TIMEOUT_MS = 3000;

export interface ControlPlane {
  /** `url`: the public URL (`--public-url`, else the listening address); `listenUrl`: where it listens. */
  start(): Promise<{ url: string; listenUrl: string }>;
  close(): Promise<void>;
  /** Available once `start()` has resolved. */
  readonly store: Store;
  readonly url: string;
  /** Available once `start()` has resolved (tests, the demo). */
  readonly services: Services;
  readonly relay: Relay;
  readonly expiry: ExpiryScheduler;
  /** Available once `start()` has resolved (tests: a checkpoint now). */
  readonly checkpointer: AuditCheckpointer;
  /** This replica in the cluster (one node on PGlite). */
  readonly cluster: Cluster;
  /** Available once `start()` has resolved (tests: a sweep now). */
  readonly credentialScheduler: CredentialScheduler;
}

interface Running {
  cluster: Cluster;
  server: Server;
  store: Store;
  relay: Relay;
  services: Services;
  expiry: ExpiryScheduler;
  checkpointer: AuditCheckpointer;
  retention: Retention;
  credentialScheduler: CredentialScheduler;
  url: string;
  listenUrl: string;
  terminals: TerminalEndpoint;
}

/** Hooks only code can set (tests): never reachable from flags, environment or config files. */
export interface ControlPlaneTestHooks {
  /** Fault points inside a rotation (credentials/credential-service.ts). */
  rotationFaults?: RotationFaults;
}

export function createControlPlane(partial: Partial<ControlPlaneConfig> = {}, testHooks: ControlPlaneTestHooks = {}): ControlPlane {
  const config = resolveConfig(partial);
  let running: Running | undefined;
  let starting: Promise<Running> | undefined;
  let closing: Promise<void> | undefined;

  const need = (): Running => {
    if (!running) throw new Error('the control plane is not started');
    return running;
  };

  return {
    async start() {
      if (closing) throw new Error('the control plane is closed');
      starting ??= boot(config, testHooks);
      running = await starting;
      return { url: running.url, listenUrl: running.listenUrl };
    },
    close() {
      closing ??= (async () => {
        const r = running ?? (await starting?.catch(() => undefined));
        if (r) await shutdown(r);
      })();
      return closing;
    },
    get store() {
      return need().store;
    },
    get url() {
      return need().url;
    },
    get services() {
      return need().services;
    },
    get relay() {
      return need().relay;
    },
    get expiry() {
      return need().expiry;
    },
    get checkpointer() {
      return need().checkpointer;
    },
    get cluster() {
      return need().cluster;
    },
    get credentialScheduler() {
      return need().credentialScheduler;
    },
  };
}

async function boot(config: ControlPlaneConfig, testHooks: ControlPlaneTestHooks): Promise<Running> {
  const rootKey = await loadRootKey(config);
  const keys = deriveKeys(rootKey);
  const box = new SecretBox(keys.encryption);
  const store = await openStore(storeTarget(config));
  let closeOnFailure: () => Promise<void> = () => Promise.resolve();
  try {
    const ca = await loadOrCreateCa(store, box);
    const audit = createAudit(store);
    const auth = new AuthService({
      store,
      audit,
      tokenSigningKey: keys.tokenSigning,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    });
    const gateways = new GatewayService({ store, ca, enrollmentTokenTtlSeconds: config.enrollmentTokenTtlSeconds });
    const connectedGateways = new Set<string>();
    const cluster = await Cluster.open({ store, databaseUrl: config.databaseUrl, heartbeatMs: config.replicaHeartbeatMs });
    const late: { credentialScheduler?: CredentialScheduler } = {}; // set below; the relay reports gateway links to it
    const relayDeps = createRelayDeps({
      store,
      auth,
      gateways,
      box,
      audit,
      connectedGateways,
      presence: cluster.presence,
      recordBindParams: config.recordBindParams,
    });
    const relay = new Relay(
      {
        ...relayDeps,
        async gatewayLinked(gatewayId, info) {
          await relayDeps.gatewayLinked?.(gatewayId, info);
          await late.credentialScheduler?.gatewayReturned(gatewayId);
        },
      },
      { cluster },
    );
    closeOnFailure = () => cluster.close();
    const permissions = new Permissions(store);
    const access = new AccessEvaluator({ store, permissions, maxSessionSeconds: config.maxSessionSeconds });
    const accessRequests = new AccessRequestService({ store, permissions, access, audit, maxSessionSeconds: config.maxSessionSeconds });
    const { mfa, signIn, auditStreams, mailer } = createMfaServices({ store, auth, box, audit, tokenSigningKey: keys.tokenSigning, config });
    const sessionRelay = clusterSessionRelay(relay, cluster);
    const sessions = new SessionService({
      store,
      ca,
      relay: sessionRelay,
      permissions,
      audit,
      maxSessionSeconds: config.maxSessionSeconds,
      access,
      requests: accessRequests,
      mfa,
    });
    const users = new UserService({ store, permissions, sessions, audit, passwords: signIn });
    const metrics = createMetrics({
      sessionsActive: () => store.sessions.countActive(new Date()),
      gatewaysConnected: () => connectedGateways.size,
      credentialsBroken: () => store.credentials.countBroken(),
      relay: () => relay.stats(),
    });
    const cookieSession = new CookieSession({
      csrfKey: keys.csrf,
      secure: (config.publicUrl ?? '').startsWith('https:'),
      refreshTtlSeconds: config.refreshTokenTtlSeconds,
    });
    let publicUrl = config.publicUrl; // known once listening when not configured
    const credentials = createCredentials({
      store,
      box,
      audit,
      ca,
      relay,
      cluster,
      mailer,
      metrics,
      config,
      faults: testHooks.rotationFaults,
      publicUrl: () => publicUrl ?? '',
    });
    late.credentialScheduler = credentials.scheduler;
    let relayUrl = ''; // this replica's own listener, for Web Access tunnels (known once listening)
    const webAccess = new WebAccess({ sessions, store, limits: webAccessLimits(config), relayUrl: () => relayUrl });
    const terminals = new TerminalEndpoint({ auth, webAccess, store });
    const services: Services = {
      store,
      auth,
      permissions,
      sessions,
      gateways,
      box,
      audit,
      relay: sessionRelay,
      metrics,
      users,
      access,
      accessRequests,
      mfa,
      signIn,
      auditStreams,
      cookieSession,
      credentials: credentials.service,
      publicUrl: () => publicUrl ?? '',
      webAccess,
    };

    const routes = apiRoutes(services, { metricsToken: config.metricsToken });
    const handle = createRequestHandler({ routes, auth, observer: metrics.observer, trustProxyHops: config.trustProxyHops });
    // The web console answers its pages and assets (console/console-handler.ts); the rest is the API's.
    const listener = withConsole(handle, { dir: config.consoleDir, https: (config.publicUrl ?? '').startsWith('https:') });
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, listener);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void routeUpgrade(relay, terminals, req, socket, head));
    server.on('clientError', answerClientError);
    // No proxying here: CONNECT is answered like any request for a method the API lacks.
    server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
      rejectUpgrade(socket, { status: 405, code: ErrorCodes.INVALID_INPUT, message: 'CONNECT is not supported' }),
    );

    const address = await listen(server, config.host, config.port);
    const listenUrl = `http://${formatHost(address.address)}:${address.port}`;
    relayUrl = `ws://${formatHost(loopbackFor(address.address))}:${address.port}`;
    webAccess.start();
    publicUrl ??= defaultPublicUrl(address);
    const url = publicUrl;
    await cluster.join(relay, config.advertiseUrl ?? defaultAdvertiseUrl(config.host, address.port));
    const expiry = new ExpiryScheduler(() => Promise.all([sessions.expireDue(), accessRequests.expireDue()]), config.expirySweepMs);
    expiry.start();
    const checkpointer = new AuditCheckpointer({
      audit,
      signer: new CheckpointSigner(keys.auditSigningSeed),
      dataDir: config.dataDir,
      intervalMs: config.auditCheckpointSeconds * 1000,
    });
    checkpointer.start();
    const retention = new Retention(store, {
      sessionEventDays: config.retentionDays,
      auditDays: config.auditRetentionDays,
      auditExportDir: config.auditExportDir ?? join(config.dataDir, 'audit-export'),
    });
    retention.start();
    credentials.scheduler.start();
    log.info({ url: listenUrl, publicUrl, store: config.databaseUrl ? 'postgres' : 'pglite', replicaId: cluster.replicaId }, 'control plane listening');
    return { server, store, relay, services, expiry, checkpointer, retention, credentialScheduler: credentials.scheduler, url, listenUrl, cluster, terminals };
  } catch (err) {
    await closeOnFailure().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Every HTTP route of the control plane (the HTTP fuzz test walks this table too). */
export function apiRoutes(services: Services, options: { metricsToken?: string } = {}): AnyRoute[] {
  const s = services;
  return [
    ...cookieAuthRoutes(s),
    ...consoleRoutes(s),
    ...systemRoutes(s, options),
    ...authRoutes(s),
    ...projectRoutes(s),
    ...gatewayRoutes(s),
    ...resourceRoutes(s),
    ...sessionRoutes(s),
    ...userRoutes(s),
    ...groupRoutes(s),
    ...policyRoutes(s),
    ...accessRequestRoutes(s),
    ...mfaRoutes(s),
    ...auditRoutes(s),
    ...credentialRoutes(s),
    ...webAccessRoutes(s),
  ];
}

/** Hands a WebSocket upgrade to the relay. Never rejects: a failure is logged and answered (400 for a bad path, else 500). */
async function routeUpgrade(relay: Relay, terminals: TerminalEndpoint, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  try {
    const { pathname } = parseRequestTarget(req.url);
    if (pathname === GATEWAY_LINK_PATH) return await relay.handleGatewayLink(req, socket, head);
    const tunnel = SESSION_TUNNEL_PATH.exec(pathname);
    if (tunnel) return await relay.handleSessionTunnel(req, socket, head, tunnel[1]);
    const clientStream = SESSION_STREAM_PATH.exec(pathname);
    const dialBack = GATEWAY_STREAM_PATH.exec(pathname);
    if ((clientStream || dialBack) && req.headers.upgrade?.toLowerCase() !== DIRECT_STREAM_PROTOCOL) {
      throw new GatehouseError(ErrorCodes.INVALID_INPUT, `${pathname} upgrades to ${DIRECT_STREAM_PROTOCOL} only`);
    }
    if (clientStream) return relay.handleSessionStream(req, socket, head, clientStream[1]);
    if (dialBack) return relay.handleGatewayStream(socket, head, dialBack[1]);
    const terminal = TERMINAL_PATH.exec(pathname);
    if (terminal) return await terminals.handleUpgrade(req, socket, head, terminal[1]);
    rejectUpgrade(socket, refusalFor(new GatehouseError(ErrorCodes.NOT_FOUND, `no WebSocket endpoint at ${pathname}`)));
  } catch (err) {
    if (!(err instanceof GatehouseError)) log.error({ err }, 'WebSocket upgrade failed');
    rejectUpgrade(socket, refusalFor(err));
  }
}

async function shutdown(r: Running): Promise<void> {
  r.services.auditStreams.close();
  // Web sessions first: they end in the store and close their tunnels while the relay still runs.
  await r.services.webAccess.close().catch((err: unknown) => log.warn({ err }, 'closing Web Access failed'));
  r.terminals.close();
  await r.expiry.stop();
  await r.retention.stop();
  await r.credentialScheduler.stop();
  // Leave the cluster first: the other replicas and the gateways stop counting on this one.
  await r.cluster.close().catch((err: unknown) => log.warn({ err }, 'leaving the cluster failed'));
  await r.relay.close().catch((err: unknown) => log.warn({ err }, 'relay close failed'));
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      r.server.closeAllConnections();
      resolve();
    }, CLOSE_TIMEOUT_MS);
    force.unref();
    r.server.close(() => {
      clearTimeout(force);
      resolve();
    });
    r.server.closeIdleConnections();
  });
  // The last checkpoint covers everything recorded up to shutdown.
  await r.checkpointer.close();
  await r.store.close();
  log.info('control plane closed');
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The listening address; on all interfaces, this machine's host name (with a warning: set --public-url). */
function defaultPublicUrl(address: AddressInfo): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  if (wildcard)
    log.warn(
      { hostname: hostname() },
      'listening on all interfaces without --public-url: links the server hands out name this host; set --public-url (GATEHOUSE_PUBLIC_URL)',
    );
  return `http://${wildcard ? hostname() : formatHost(address.address)}:${address.port}`;
}

/** Sessions end on every replica: here at once, elsewhere through the cluster bus. */
function clusterSessionRelay(relay: Relay, cluster: Cluster) {
  return {
    isGatewayConnected: async (gatewayId: string) => relay.isGatewayConnected(gatewayId) || (await cluster.presence.isLinkedAnywhere(gatewayId)),
    endSession: (sessionId: string, reason: SessionEndReason) => cluster.endSession(sessionId, reason),
    extendSession: (sessionId: string, expiresAt: Date, certificatePem: string) => cluster.extendSession(sessionId, expiresAt, certificatePem),
  };
}

/** Where gateways reach this replica when --advertise-url is not set. */
function defaultAdvertiseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `http://${formatHost(reachable)}:${port}`;
}

/** Where this process reaches its own listener: loopback when it listens on every interface. */
function loopbackFor(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
