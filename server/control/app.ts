/**
 * The control plane: store, keys, CA, auth, HTTP API and the relay, wired together.
 * `start()` listens; `close()` is idempotent and stops everything in reverse order.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../proxy-core/src/log.ts';
import { Relay } from './relay/relay.ts';
import { createRequestHandler } from './api/dispatcher.ts';
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
import type { Services } from './api/services.ts';
import { createAudit } from './audit.ts';
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
import { SessionService } from './sessions.ts';
import { openStore, storeTarget, type Store } from './store/store.ts';

const log = createLogger('control-plane');

const GATEWAY_LINK_PATH = '/api/v1/gateways/link';
const SESSION_TUNNEL_PATH = /^\/api\/v1\/sessions\/([A-Za-z0-9._~-]{1,128})\/tunnel$/;
const CLOSE_TIMEOUT_MS = 3000;

export interface ControlPlane {
  start(): Promise<{ url: string }>;
  close(): Promise<void>;
  /** Available once `start()` has resolved. */
  readonly store: Store;
  readonly url: string;
  /** Available once `start()` has resolved (tests, the demo). */
  readonly services: Services;
  readonly relay: Relay;
  readonly expiry: ExpiryScheduler;
}

interface Running {
  server: Server;
  store: Store;
  relay: Relay;
  services: Services;
  expiry: ExpiryScheduler;
  url: string;
}

export function createControlPlane(partial: Partial<ControlPlaneConfig> = {}): ControlPlane {
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
      starting ??= boot(config);
      running = await starting;
      return { url: running.url };
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
  };
}

async function boot(config: ControlPlaneConfig): Promise<Running> {
  const rootKey = await loadRootKey(config);
  const keys = deriveKeys(rootKey);
  const box = new SecretBox(keys.encryption);
  const store = await openStore(storeTarget(config));
  try {
    const ca = await loadOrCreateCa(store, box);
    const auth = new AuthService({ store, tokenSigningKey: keys.tokenSigning, accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlSeconds: config.refreshTokenTtlSeconds });
    const gateways = new GatewayService({ store, ca, enrollmentTokenTtlSeconds: config.enrollmentTokenTtlSeconds });
    const connectedGateways = new Set<string>();
    const relay = new Relay(createRelayDeps({ store, auth, gateways, box, connectedGateways, recordBindParams: config.recordBindParams }));
    const permissions = new Permissions(store);
    const audit = createAudit(store);
    const access = new AccessEvaluator({ store, permissions, maxSessionSeconds: config.maxSessionSeconds });
    const accessRequests = new AccessRequestService({ store, permissions, access, audit, maxSessionSeconds: config.maxSessionSeconds });
    const sessions = new SessionService({ store, ca, relay, permissions, audit, maxSessionSeconds: config.maxSessionSeconds, access, requests: accessRequests });
    const users = new UserService({ store, permissions, sessions, audit });
    const metrics = createMetrics({ sessionsActive: () => store.sessions.countActive(new Date()), gatewaysConnected: () => connectedGateways.size });
    const { mfa, signIn, auditStreams } = createMfaServices({ store, auth, box, audit, tokenSigningKey: keys.tokenSigning, config });
    const cookieSession = new CookieSession({ csrfKey: keys.csrf, secure: (config.publicUrl ?? '').startsWith('https:'), refreshTtlSeconds: config.refreshTokenTtlSeconds });
    const services: Services = { store, auth, permissions, sessions, gateways, box, audit, relay, metrics, users, access, accessRequests, mfa, signIn, auditStreams, cookieSession };

    const routes = [...cookieAuthRoutes(services), ...consoleRoutes(services), ...systemRoutes(services), ...authRoutes(services), ...projectRoutes(services), ...gatewayRoutes(services), ...resourceRoutes(services), ...sessionRoutes(services), ...userRoutes(services), ...groupRoutes(services), ...policyRoutes(services), ...accessRequestRoutes(services), ...mfaRoutes(services), ...auditRoutes(services)];
    const handle = createRequestHandler({ routes, auth, observer: metrics.observer, trustProxyHops: config.trustProxyHops });
    // The web console answers its pages and assets (console/console-handler.ts); the rest is the API's.
    const listener = withConsole(handle, { dir: config.consoleDir, https: (config.publicUrl ?? '').startsWith('https:') });
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, listener);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => routeUpgrade(relay, req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());

    const address = await listen(server, config.host, config.port);
    const url = config.publicUrl ?? `http://${formatHost(address.address)}:${address.port}`;
    const expiry = new ExpiryScheduler(() => Promise.all([sessions.expireDue(), accessRequests.expireDue()]), config.expirySweepMs);
    expiry.start();
    log.info({ url, store: config.databaseUrl ? 'postgres' : 'pglite' }, 'control plane listening');
    return { server, store, relay, services, expiry, url };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

function routeUpgrade(relay: Relay, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (pathname === GATEWAY_LINK_PATH) return relay.handleGatewayLink(req, socket, head);
  const tunnel = SESSION_TUNNEL_PATH.exec(pathname);
  if (tunnel) return relay.handleSessionTunnel(req, socket, head, tunnel[1]);
  socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}

async function shutdown(r: Running): Promise<void> {
  r.services.auditStreams.close();
  await r.expiry.stop();
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

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
