import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { identityFromCertificate, type CertificateIdentity } from '../../proxy-core/src/tls/identity.ts';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/**
 * The verified identity of the TLS client on a server-side `TLSSocket` built directly over a
 * stream. Node only sets `socket.authorized` for sockets accepted by a `tls.Server`, and its
 * verify callback lets the handshake finish with an untrusted certificate, so the chain is
 * checked here: issued and signed by our CA, within its validity, usable for client auth.
 * (The handshake itself proved the client holds the certificate's key.)
 */
export function verifiedPeerIdentity(socket: TLSSocket, caPem: string, now = Date.now()): CertificateIdentity | undefined {
  const peer = socket.getPeerX509Certificate();
  if (!peer) return undefined;
  const ca = new X509Certificate(caPem);
  if (!peer.checkIssued(ca) || !peer.verify(ca.publicKey)) return undefined;
  if (Date.parse(peer.validFrom) > now || Date.parse(peer.validTo) < now) return undefined;
  const usages = peer.keyUsage;
  if (Array.isArray(usages) && usages.length > 0 && !usages.includes(CLIENT_AUTH_OID)) return undefined;
  return identityFromCertificate(peer.raw);
}
