/** The TLS/CA API in one import (docs/architecture.md, "End-to-end TLS"). */
export { generateKeyPair, type KeyPairPem } from './keys.ts';
export { createSelfSignedCertificate, type SelfSignedOptions, type CertificateAndKey } from './self-signed.ts';
export { CertificateAuthority, type IssueOptions } from './ca.ts';
export { type CertificateUsage } from './extensions.ts';
export { identityFromCertificate, identityUri, parseIdentityUri, type CertificateIdentity } from './identity.ts';
export {
  clientTlsOptionsForGateway,
  serverTlsOptionsForSessions,
  peerIdentity,
  GATEHOUSE_ALPN,
  GATEWAY_SERVERNAME,
  type TlsIdentityPem,
} from './tls-options.ts';
export { acceptSessionTls, connectGatewayTls, type AcceptedSessionTls } from './session-tls.ts';
