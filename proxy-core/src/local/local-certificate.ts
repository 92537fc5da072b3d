import { createSelfSignedCertificate, type CertificateAndKey } from '../tls/self-signed.ts';

let certificate: Promise<CertificateAndKey> | undefined;

/**
 * The certificate the local proxy presents to `sslmode=require` clients: self-signed for
 * 127.0.0.1 and localhost, generated once per process.
 */
export function localCertificate(): Promise<CertificateAndKey> {
  certificate ??= createSelfSignedCertificate({ commonName: '127.0.0.1', altNames: ['127.0.0.1', 'localhost'] });
  certificate.catch(() => {
    certificate = undefined;
  });
  return certificate;
}
