import { X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { identityFromCertificate, type CertificateIdentity } from './identity.ts';
import { clientTlsOptionsForGateway, serverTlsOptionsForSessions, type TlsIdentityPem } from './tls-options.ts';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface AcceptedSessionTls {
  socket: tls.TLSSocket;
  /** The verified session identity from the client certificate. */
  identity: CertificateIdentity & { kind: 'session' };
}

/**
 * The gateway side of the end-to-end TLS inside a tunnel stream. Resolves once the
 * handshake is done AND the client certificate is verified: issued and signed by the CA,
 * within its validity, meant for client auth, carrying a session identity (equal to
 * `expectedSessionId` when given). Otherwise destroys the socket and rejects with
 * UNAUTHENTICATED (TIMEOUT if the handshake stalls).
 *
 * Why not just `new tls.TLSSocket(stream, { isServer: true, rejectUnauthorized: true })`?
 * Outside a `tls.Server`, node completes the handshake with ANY client certificate and
 * never sets `authorized`; only `tls.Server` enforces `rejectUnauthorized`. This does the
 * check itself.
 */
export function acceptSessionTls(
  stream: Duplex,
  options: TlsIdentityPem & { expectedSessionId?: string; handshakeTimeoutMs?: number },
): Promise<AcceptedSessionTls> {
  const ca = caCertificate(options.caPem);
  const socket = new tls.TLSSocket(stream, { isServer: true, ...serverTlsOptionsForSessions(options) });
  return new Promise<AcceptedSessionTls>((resolve, reject) => {
    const fail = (error: GatehouseError) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (cause: Error) => fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, `tunnel TLS handshake failed: ${cause.message}`, { cause }));
    const onClose = () => fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'tunnel TLS handshake failed: closed before it completed'));
    const timer = setTimeout(
      () => fail(new GatehouseError(ErrorCodes.TIMEOUT, 'tunnel TLS handshake timed out')),
      options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('secure', onSecure);
    };
    const onSecure = () => {
      const peer = socket.getPeerX509Certificate();
      const problem = peer ? clientCertificateProblem(peer, ca) : 'no client certificate';
      if (problem) return fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, `tunnel TLS client certificate refused: ${problem}`));
      const identity = identityFromCertificate(peer!.raw);
      if (identity?.kind !== 'session')
        return fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'tunnel TLS client certificate is not a session certificate'));
      if (options.expectedSessionId !== undefined && identity.id !== options.expectedSessionId) {
        return fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'tunnel TLS client certificate belongs to another session'));
      }
      cleanup();
      socket.authorized = true;
      resolve({ socket, identity: { kind: 'session', id: identity.id } });
    };
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('secure', onSecure);
  });
}

/**
 * TLS 1.3 tickets per (gateway, session certificate), so that the next stream resumes instead
 * of running a full handshake: no certificate signatures or chain checks on either side, about
 * a millisecond of CPU saved at each end per connection. A ticket is kept only from a
 * connection whose gateway was verified, and the gateway checks the session certificate the
 * ticket remembers exactly as it checks a presented one (acceptSessionTls).
 */
const tickets = new Map<string, Buffer>();
const MAX_TICKETS = 64;

function rememberTicket(key: string, ticket: Buffer): void {
  tickets.delete(key);
  if (tickets.size >= MAX_TICKETS) tickets.delete(tickets.keys().next().value as string);
  tickets.set(key, ticket);
}

/**
 * The local proxy side: a TLS client toward the gateway over `stream`, resuming a remembered
 * session when there is one. Node verifies the gateway (CA chain + URI SAN of `gatewayId`,
 * through checkServerIdentity; a resumed session was verified when its ticket was issued).
 * Wait for 'secureConnect' before writing, or use connectGatewayTls.
 */
export function startGatewayTls(stream: Duplex, options: TlsIdentityPem & { gatewayId: string }): tls.TLSSocket {
  const ticketKey = `${options.gatewayId}\n${options.certPem}`;
  const socket = tls.connect({ socket: stream, ...clientTlsOptionsForGateway(options), session: tickets.get(ticketKey) });
  socket.on('session', (ticket: Buffer) => {
    if (socket.authorized) rememberTicket(ticketKey, ticket);
  });
  return socket;
}

/** startGatewayTls, resolving once the handshake is done and the gateway verified. */
export function connectGatewayTls(stream: Duplex, options: TlsIdentityPem & { gatewayId: string; handshakeTimeoutMs?: number }): Promise<tls.TLSSocket> {
  const socket = startGatewayTls(stream, options);
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const fail = (error: GatehouseError) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (cause: Error) => fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, `gateway TLS handshake failed: ${cause.message}`, { cause }));
    const onClose = () => fail(new GatehouseError(ErrorCodes.UNAUTHENTICATED, 'gateway TLS handshake failed: closed before it completed'));
    const timer = setTimeout(
      () => fail(new GatehouseError(ErrorCodes.TIMEOUT, 'gateway TLS handshake timed out')),
      options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    const onSecure = () => {
      cleanup();
      resolve(socket);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('secureConnect', onSecure);
    };
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('secureConnect', onSecure);
  });
}

/** The parsed CA certificate (parsed once per CA, not per stream). */
const caCertificates = new Map<string, X509Certificate>();
function caCertificate(caPem: string): X509Certificate {
  let ca = caCertificates.get(caPem);
  if (ca === undefined) {
    if (caCertificates.size >= 8) caCertificates.clear();
    ca = new X509Certificate(caPem);
    caCertificates.set(caPem, ca);
  }
  return ca;
}

/** Why a client certificate is not acceptable, or undefined. The CA issues leaves directly. */
function clientCertificateProblem(cert: X509Certificate, ca: X509Certificate): string | undefined {
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not issued by the Gatehouse CA';
  const now = Date.now();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return 'expired or not yet valid';
  if (now < Date.parse(ca.validFrom) || now > Date.parse(ca.validTo)) return 'the CA certificate is expired';
  if (cert.ca) return 'a CA certificate';
  const usages = cert.keyUsage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH_OID)) return 'not meant for client authentication';
  return undefined;
}
