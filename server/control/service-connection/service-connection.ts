/**
 * Service connections: the control plane itself logs in to a resource's database, through the
 * resource's gateway, with explicit credentials and no user session. Credential rotation,
 * the credential health check and **Check connection** use it; anything else the control
 * plane must run against a database (as Gatehouse, not as a user) should too.
 *
 * The path is a user connection's path minus the user:
 * - a stream on this replica's link of the gateway (`Relay.openServiceStream`, relay/local-stream.ts);
 * - end-to-end TLS to the gateway with a certificate the control plane issues itself for a
 *   fresh one-off id (`gatehouse://session/svc-<uuid>`, valid for minutes) — the gateway
 *   verifies it exactly as it verifies a session certificate;
 * - the password sealed to the gateway's enrolled key, bound to that id
 *   (`targetPasswordContext(gatewayId, id)`): it is decrypted only by the gateway and leaves
 *   it only inside its SCRAM exchange with the database;
 * - the meta marks the stream `service: { purpose }`: the gateway records no statement of it
 *   (so an `ALTER ROLE … PASSWORD` never reaches a session log) and no session row exists.
 *
 * Replicas: every replica normally holds a link of every gateway (the gateway links to each
 * live replica), so a service connection runs on the replica that wants it. When this replica
 * has no link, the failure says whether the gateway is offline everywhere (GATEWAY_OFFLINE) or
 * only not linked here yet (GATEWAY_NOT_LINKED_HERE); the rotation scheduler leaves such an
 * account to a replica that holds the link (credentials/scheduler.ts).
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { CertificateAuthority } from '../../../proxy-core/src/tls/ca.ts';
import { identityUri } from '../../../proxy-core/src/tls/identity.ts';
import { generateKeyPair } from '../../../proxy-core/src/tls/keys.ts';
import { connectGatewayTls } from '../../../proxy-core/src/tls/session-tls.ts';
import type { GatewayStreamMeta, ServicePurpose } from '../../../proxy-core/src/tunnel/meta.ts';
import { sealToPublicKey, targetPasswordContext } from '../../../proxy-core/src/tunnel/sealed-secret.ts';
import type { Duplex } from 'node:stream';
import type { Resource } from '../store/resources.ts';
import { CredentialFailure, CredentialFailureCodes, failureFromTransport } from './credential-failure.ts';
import { ServicePgClient, type QueryResult } from './service-pg-client.ts';

export { CredentialFailure, CredentialFailureCodes, type CredentialFailureCode } from './credential-failure.ts';
export type { ServicePurpose };

const log = createLogger('service-connection');

const DEFAULT_TIMEOUT_MS = 15_000;
const CERT_VALIDITY_MS = 10 * 60_000;

export interface ServiceConnectorDeps {
  ca: CertificateAuthority;
  /** A stream to the gateway on this replica's link; throws GATEWAY_UNAVAILABLE without one (Relay.openServiceStream). */
  openStream(gatewayId: string, meta: GatewayStreamMeta): Duplex;
  /** The gateway's enrolled certificate (PEM), undefined when it is not enrolled. */
  gatewayCertificate(gatewayId: string): Promise<string | undefined>;
  /** Whether any replica holds a link of the gateway (cluster presence). */
  isLinkedAnywhere(gatewayId: string): Promise<boolean>;
}

export interface ServiceLogin {
  resource: Pick<Resource, 'gatewayId' | 'host' | 'port' | 'database' | 'ssl' | 'allowMd5' | 'allowCleartext' | 'name'>;
  username: string;
  /** Plaintext, held only in memory for the call; sealed to the gateway before it leaves. */
  password: string;
  purpose: ServicePurpose;
  timeoutMs?: number;
}

/** One logged-in service connection; `close()` it. */
export interface ServiceConnection {
  query(sql: string): Promise<QueryResult>;
  /** ParameterStatus values the database sent (server_version, …). */
  readonly parameters: Readonly<Record<string, string>>;
  close(): void;
}

export class ServiceConnector {
  constructor(private readonly deps: ServiceConnectorDeps) {}

  /** Logs in through the gateway; throws CredentialFailure with a stable code. */
  async connect(login: ServiceLogin): Promise<ServiceConnection> {
    const { resource } = login;
    const timeoutMs = login.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const certificatePem = await this.deps.gatewayCertificate(resource.gatewayId);
    if (certificatePem === undefined) throw new CredentialFailure(CredentialFailureCodes.GATEWAY_OFFLINE, `the gateway of "${resource.name}" is not enrolled`);
    const id = `svc-${randomUUID()}`;
    const key = generateKeyPair();
    const certPem = await this.deps.ca.issue({
      publicKeyPem: key.publicKeyPem,
      uri: identityUri({ kind: 'session', id }),
      commonName: `gatehouse ${login.purpose}`,
      notAfter: new Date(Date.now() + CERT_VALIDITY_MS),
      usage: 'client',
    });
    const expiresAt = new Date(Date.now() + CERT_VALIDITY_MS).toISOString();
    const meta: GatewayStreamMeta = {
      kind: 'pg',
      sessionId: id,
      connectionId: randomUUID(),
      applicationName: `gatehouse-${login.purpose}`,
      target: {
        host: resource.host,
        port: resource.port,
        database: resource.database,
        username: login.username,
        passwordSealed: sealToPublicKey(login.password, new X509Certificate(certificatePem).publicKey, targetPasswordContext(resource.gatewayId, id)),
        ssl: {
          enabled: resource.ssl.enabled,
          rejectUnauthorized: resource.ssl.rejectUnauthorized,
          ...(resource.ssl.ca !== undefined && { ca: resource.ssl.ca }),
        },
        authMethods: { md5: resource.allowMd5, cleartext: resource.allowCleartext },
      },
      session: { expiresAt, userEmail: `${login.purpose}@gatehouse.service`, accountName: login.username, resourceName: resource.name },
      recording: { redactBindParams: true },
      service: { purpose: login.purpose },
    };

    let stream: Duplex;
    try {
      stream = this.deps.openStream(resource.gatewayId, meta);
    } catch (err) {
      const elsewhere = await this.deps.isLinkedAnywhere(resource.gatewayId).catch(() => false);
      if (elsewhere) {
        throw new CredentialFailure(
          CredentialFailureCodes.GATEWAY_NOT_LINKED_HERE,
          `the gateway of "${resource.name}" is linked to another control plane replica but not yet to this one; try again in a few seconds`,
          undefined,
          { cause: err },
        );
      }
      throw failureFromTransport(err);
    }
    let socket: TLSSocket | undefined;
    try {
      socket = await connectGatewayTls(stream, {
        keyPem: key.privateKeyPem,
        certPem,
        caPem: this.deps.ca.certPem,
        gatewayId: resource.gatewayId,
        handshakeTimeoutMs: timeoutMs,
      });
      const client = new ServicePgClient(socket, timeoutMs);
      await client.startup({ user: login.username, database: resource.database, application_name: `gatehouse-${login.purpose}` });
      const tls = socket;
      log.debug({ purpose: login.purpose, gatewayId: resource.gatewayId, username: login.username }, 'service connection open');
      return {
        query: (sql) => client.query(sql),
        parameters: client.parameters,
        close: () => {
          client.close();
          tls.once('close', () => stream.destroy());
        },
      };
    } catch (err) {
      socket?.destroy();
      stream.destroy();
      throw failureFromTransport(err);
    }
  }

  /** Logs in, runs `work`, closes: the common shape of every job. */
  async with<T>(login: ServiceLogin, work: (connection: ServiceConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect(login);
    try {
      return await work(connection);
    } finally {
      connection.close();
    }
  }
}
