/**
 * What the relay asks of the rest of the control plane (docs/architecture.md, "Control
 * plane ↔ relay seam"). `authorizeTunnel` is the only place an account password is decrypted,
 * and it leaves only sealed to the session's enrolled gateway key (issue 10 item 1).
 */
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { X509Certificate } from 'node:crypto';
import { sealToPublicKey, targetPasswordContext } from '../../proxy-core/src/tunnel/sealed-secret.ts';
import type { Audit } from './audit.ts';
import type { RelayDeps, SessionEvent } from './relay/types.ts';
import type { AuthService } from './auth/auth-service.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import type { GatewayPresence } from './cluster/gateway-presence.ts';
import type { GatewayService } from './gateways.ts';
import { accountPasswordAad } from './store/accounts.ts';
import type { Store } from './store/store.ts';

const log = createLogger('relay-deps');

export interface RelayDepsOptions {
  store: Store;
  auth: AuthService;
  gateways: GatewayService;
  box: SecretBox;
  audit: Audit;
  /** Live gateway ids on this replica, for metrics. */
  connectedGateways: Set<string>;
  /** Gateway links per replica in the store (cluster-wide `connected`). */
  presence: GatewayPresence;
  /** Keep Bind parameter values in session logs instead of 'redacted'. */
  recordBindParams: boolean;
}

export function createRelayDeps(options: RelayDepsOptions): RelayDeps {
  const { store, auth, gateways, box, audit, connectedGateways } = options;
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
      if (account.passwordSealed === null) {
        throw new GatehouseError(
          ErrorCodes.CONFLICT,
          `the password of account "${account.name}" must be entered again (its resource's host, port or TLS settings changed); ask a project admin`,
        );
      }
      const gateway = await store.gateways.findById(session.gatewayId);
      if (!gateway?.certificatePem) throw new GatehouseError(ErrorCodes.GATEWAY_UNAVAILABLE, 'the gateway of this session is not enrolled');
      const passwordSealed = sealToPublicKey(
        box.openString(account.passwordSealed, accountPasswordAad(account.id)),
        new X509Certificate(gateway.certificatePem).publicKey,
        targetPasswordContext(session.gatewayId, session.id),
      );
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
            passwordSealed,
            ssl: {
              enabled: resource.ssl.enabled,
              rejectUnauthorized: resource.ssl.rejectUnauthorized,
              ...(resource.ssl.ca !== undefined && { ca: resource.ssl.ca }),
            },
            authMethods: { md5: resource.allowMd5, cleartext: resource.allowCleartext },
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
      await store.sessionEvents.insert(gatewayId, accepted);
    },

    async gatewayLinked(gatewayId, { replaced, remoteAddress }) {
      await audit({
        actor: null,
        action: replaced ? 'gateway.link_replaced' : 'gateway.linked',
        targetType: 'gateway',
        targetId: gatewayId,
        sourceAddress: remoteAddress ?? null,
        details: replaced ? { note: 'a new link replaced the live one; its streams were reset' } : {},
      });
    },

    async setGatewayConnected(gatewayId, connected) {
      if (connected) connectedGateways.add(gatewayId);
      else connectedGateways.delete(gatewayId);
      await options.presence.setLinked(gatewayId, connected);
    },
  };
}
