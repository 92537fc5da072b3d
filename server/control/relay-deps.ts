/**
 * What the relay asks of the rest of the control plane (docs/architecture.md, "Control
 * plane ↔ relay seam"). `authorizeTunnel` is the only place an account password is decrypted.
 */
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import type { RelayDeps, SessionEvent } from './relay/types.ts';
import type { AuthService } from './auth/auth-service.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import type { GatewayPresence } from './cluster/gateway-presence.ts';
import type { GatewayService } from './gateways.ts';
import { accountPasswordAad } from './store/accounts.ts';
import type { StoredSessionEvent } from './store/session-events.ts';
import type { Store } from './store/store.ts';

const log = createLogger('relay-deps');

export interface RelayDepsOptions {
  store: Store;
  auth: AuthService;
  gateways: GatewayService;
  box: SecretBox;
  /** Live gateway ids on this replica, for metrics. */
  connectedGateways: Set<string>;
  /** Gateway links per replica in the store (cluster-wide `connected`). */
  presence: GatewayPresence;
  /** Keep Bind parameter values in session logs instead of 'redacted'. */
  recordBindParams: boolean;
}

export function createRelayDeps(options: RelayDepsOptions): RelayDeps {
  const { store, auth, gateways, box, connectedGateways } = options;
  return {
    authenticateGateway: (headers) => gateways.authenticateLink(headers),

    async authorizeTunnel(sessionId, authorization) {
      const user = await auth.authenticate(authorization);
      const session = await store.sessions.findById(sessionId);
      if (!session || session.userId !== user.id) throw new GatehouseError(ErrorCodes.NOT_FOUND, 'session not found');
      if (session.status === 'revoked') throw new GatehouseError(ErrorCodes.SESSION_REVOKED, 'this session was revoked by an admin');
      if (session.status === 'ended') throw new GatehouseError(ErrorCodes.SESSION_ENDED, 'this session has ended; start a new one');
      if (session.status === 'expired' || session.expiresAt.getTime() <= Date.now()) {
        throw new GatehouseError(ErrorCodes.SESSION_EXPIRED, 'this session has expired; start a new one');
      }
      const resource = await store.resources.findById(session.resourceId);
      const account = await store.accounts.findById(session.accountId);
      if (!resource || !account) throw new GatehouseError(ErrorCodes.NOT_FOUND, 'the resource or account of this session was deleted');
      const password = box.openString(account.passwordSealed, accountPasswordAad(account.id));
      const expiresAt = session.expiresAt.toISOString();
      return {
        gatewayId: session.gatewayId,
        expiresAt,
        meta: {
          sessionId: session.id,
          target: {
            host: resource.host,
            port: resource.port,
            database: resource.database,
            username: account.username,
            password,
            ssl: { enabled: resource.ssl.enabled, rejectUnauthorized: resource.ssl.rejectUnauthorized, ...(resource.ssl.ca !== undefined && { ca: resource.ssl.ca }) },
          },
          session: { expiresAt, userEmail: session.userEmail, accountName: session.accountName, resourceName: session.resourceName },
          recording: { redactBindParams: !options.recordBindParams },
        },
      };
    },

    async storeEvents(gatewayId, events: SessionEvent[]) {
      const ownSessions = await store.sessions.idsOnGateway(gatewayId, [...new Set(events.map((e) => e.sessionId))]);
      const accepted = events.filter((e) => ownSessions.has(e.sessionId));
      if (accepted.length < events.length) log.warn({ gatewayId, dropped: events.length - accepted.length }, 'events for sessions of another gateway dropped');
      await store.sessionEvents.insert(gatewayId, accepted as unknown as StoredSessionEvent[]);
    },

    async setGatewayConnected(gatewayId, connected) {
      if (connected) connectedGateways.add(gatewayId);
      else connectedGateways.delete(gatewayId);
      await options.presence.setLinked(gatewayId, connected);
    },
  };
}
