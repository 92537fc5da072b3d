/** Builds the credential service and its scheduler from the control plane's parts (app.ts). */
import type { CertificateAuthority } from '../../../proxy-core/src/tls/ca.ts';
import type { Audit } from '../audit.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { ControlPlaneConfig } from '../config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Metrics } from '../metrics.ts';
import type { Relay } from '../relay/relay.ts';
import type { Store } from '../store/store.ts';
import { ServiceConnector } from '../service-connection/service-connection.ts';
import { CredentialAlerts } from './alerts.ts';
import { CredentialService, type RotationFaults } from './credential-service.ts';
import { CredentialScheduler } from './scheduler.ts';

/** A job's lease: far longer than a rotation takes (a few logins), short enough to recover from a crash. */
const LEASE_MS = 2 * 60_000;

export function createCredentials(o: {
  store: Store;
  box: SecretBox;
  audit: Audit;
  ca: CertificateAuthority;
  relay: Relay;
  cluster: Cluster;
  mailer: Mailer;
  metrics: Metrics;
  config: ControlPlaneConfig;
  faults: RotationFaults | undefined;
  publicUrl: () => string;
}): { service: CredentialService; scheduler: CredentialScheduler } {
  const connector = new ServiceConnector({
    ca: o.ca,
    openStream: (gatewayId, meta) => o.relay.openServiceStream(gatewayId, meta),
    gatewayCertificate: async (gatewayId) => (await o.store.gateways.findById(gatewayId))?.certificatePem ?? undefined,
    isLinkedAnywhere: (gatewayId) => o.cluster.presence.isLinkedAnywhere(gatewayId),
  });
  const alerts = new CredentialAlerts({ store: o.store, audit: o.audit, mailer: o.mailer, metrics: o.metrics.credentials, publicUrl: o.publicUrl });
  const service = new CredentialService({
    store: o.store,
    box: o.box,
    connector,
    alerts,
    metrics: o.metrics.credentials,
    isLinkedHere: (gatewayId) => o.relay.isGatewayConnected(gatewayId),
    isLinkedAnywhere: (gatewayId) => o.cluster.presence.isLinkedAnywhere(gatewayId),
    retry: { baseMs: o.config.rotationRetryBaseMs, maxMs: o.config.rotationRetryMaxMs },
    leaseMs: LEASE_MS,
    replicaId: o.cluster.replicaId,
    ...(o.faults && { faults: o.faults }),
  });
  o.store.credentials.setClustered(o.config.databaseUrl !== undefined);
  const scheduler = new CredentialScheduler({
    store: o.store,
    service,
    owner: o.cluster.replicaId,
    clustered: o.config.databaseUrl !== undefined,
    sweepMs: o.config.credentialSweepMs,
    healthCheckIntervalMs: o.config.healthCheckIntervalMs,
    leaseMs: LEASE_MS,
  });
  return { service, scheduler };
}
