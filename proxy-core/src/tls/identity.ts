import { x509 } from './x509.ts';

/** Who a certificate speaks for, read from its `gatehouse://<kind>/<id>` URI SAN. */
export interface CertificateIdentity {
  kind: 'gateway' | 'session';
  id: string;
}

export const IDENTITY_URI_SCHEME = 'gatehouse:';

const IDENTITY_URI = /^gatehouse:\/\/(gateway|session)\/([A-Za-z0-9._~-]{1,128})$/;

export function identityUri(identity: CertificateIdentity): string {
  return `gatehouse://${identity.kind}/${identity.id}`;
}

/** Parses `gatehouse://gateway/<id>` or `gatehouse://session/<id>`; anything else is undefined. */
export function parseIdentityUri(uri: string): CertificateIdentity | undefined {
  const match = IDENTITY_URI.exec(uri);
  if (!match) return undefined;
  return { kind: match[1] as CertificateIdentity['kind'], id: match[2] };
}

/**
 * The identity in a certificate (PEM string, or DER such as
 * `tlsSocket.getPeerCertificate().raw`). Undefined when the certificate cannot be parsed or
 * does not carry exactly one gatehouse URI SAN. This does NOT verify the certificate: only
 * use it on a certificate that TLS has already verified against the CA.
 */
export function identityFromCertificate(cert: string | Buffer | Uint8Array): CertificateIdentity | undefined {
  // The same session and gateway certificates come back on every stream: parse each once.
  const cacheKey = typeof cert === 'string' ? cert : Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength).toString('base64');
  if (identityCache.has(cacheKey)) return identityCache.get(cacheKey);
  const identity = parseIdentity(cert);
  if (identityCache.size >= MAX_CACHED_IDENTITIES) identityCache.delete(identityCache.keys().next().value as string);
  identityCache.set(cacheKey, identity);
  return identity;
}

const MAX_CACHED_IDENTITIES = 256;
const identityCache = new Map<string, CertificateIdentity | undefined>();

function parseIdentity(cert: string | Buffer | Uint8Array): CertificateIdentity | undefined {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(typeof cert === 'string' ? cert : new Uint8Array(cert));
  } catch {
    return undefined;
  }
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) return undefined;
  const identities = san.names.items
    .filter((name) => name.type === 'url' && name.value.startsWith(`${IDENTITY_URI_SCHEME}//`))
    .map((name) => parseIdentityUri(name.value));
  if (identities.length !== 1 || identities[0] === undefined) return undefined;
  return identities[0];
}
