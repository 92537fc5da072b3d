import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { identityFromCertificate, type CertificateIdentity } from './identity.ts';

/** ALPN protocol of the end-to-end TLS inside a tunnel stream. */
export const GATEHOUSE_ALPN = 'gatehouse-pg';

/** SNI sent by clients (hostnames do not apply; identity is the URI SAN). */
export const GATEWAY_SERVERNAME = 'gatehouse-gateway';

export interface TlsIdentityPem {
  keyPem: string;
  certPem: string;
  caPem: string;
}

/**
 * One SecureContext per identity, reused for every stream of a session: building one parses
 * the key and the certificates, which cost more than the rest of a handshake.
 */
const MAX_CONTEXTS = 64;
const SESSION_ID_CONTEXT = 'gatehouse-e2e';
const contexts = new Map<string, SecureContext>();
function secureContextFor(opts: TlsIdentityPem): SecureContext {
  const key = `${opts.certPem}\n${opts.caPem}`;
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({ key: opts.keyPem, cert: opts.certPem, ca: [opts.caPem], minVersion: 'TLSv1.3' });
    // A server that asks for client certificates resumes sessions only with a session id
    // context (tls.Server sets one; a bare server TLSSocket must have it on its context).
    (context.context as { setSessionIdContext(id: string): void }).setSessionIdContext(SESSION_ID_CONTEXT);
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
    contexts.set(key, context);
  }
  return context;
}

/**
 * `tls.connect` options for the local proxy: present the session cert, trust only the CA,
 * and accept only the certificate whose URI SAN is `gatehouse://gateway/<gatewayId>`.
 * Pass `socket` (the MuxStream) yourself.
 */
export function clientTlsOptionsForGateway(opts: TlsIdentityPem & { gatewayId: string }): ConnectionOptions {
  return {
    secureContext: secureContextFor(opts),
    minVersion: 'TLSv1.3',
    ALPNProtocols: [GATEHOUSE_ALPN],
    servername: GATEWAY_SERVERNAME,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const identity = identityFromCertificate(cert.raw);
      if (identity?.kind === 'gateway' && identity.id === opts.gatewayId) return undefined;
      const err = new Error(
        `gateway certificate identity mismatch: expected gateway ${opts.gatewayId}, got ${identity ? `${identity.kind} ${identity.id}` : 'no gatehouse identity'}`,
      ) as Error & { code: string };
      err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
      return err;
    },
  };
}

/**
 * Options for the gateway's TLS server side: require a client cert chained to the CA.
 * With `tls.createServer(opts)` node enforces this. With a bare
 * `new tls.TLSSocket(stream, { isServer: true, ...opts })` it does NOT (any client cert
 * completes the handshake): use `acceptSessionTls` for tunnel streams. Either way, check
 * that the session id in the client cert is the stream's session.
 */
export function serverTlsOptionsForSessions(opts: TlsIdentityPem): TlsOptions {
  return {
    // A TLSSocket uses the shared context; tls.createServer builds its own from key/cert/ca.
    secureContext: secureContextFor(opts),
    key: opts.keyPem,
    cert: opts.certPem,
    ca: [opts.caPem],
    minVersion: 'TLSv1.3',
    ALPNProtocols: [GATEHOUSE_ALPN],
    requestCert: true,
    rejectUnauthorized: true,
  };
}

/** The verified peer's gatehouse identity, or undefined if not authorized / none. */
export function peerIdentity(socket: TLSSocket): CertificateIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return identityFromCertificate(cert.raw);
}
