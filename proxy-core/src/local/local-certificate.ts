import { createSecureContext, type SecureContext } from 'node:tls';
import { createSelfSignedCertificate } from '../tls/self-signed.ts';

let context: Promise<SecureContext> | undefined;

/**
 * What the local proxy presents to `sslmode=require` clients: a certificate self-signed for
 * 127.0.0.1 and localhost, generated once per process, in one TLS context reused by every
 * connection.
 */
export function localTlsContext(): Promise<SecureContext> {
  context ??= createSelfSignedCertificate({ commonName: '127.0.0.1', altNames: ['127.0.0.1', 'localhost'] }).then(({ certPem, keyPem }) =>
    createSecureContext({ key: keyPem, cert: certPem }),
  );
  context.catch(() => {
    context = undefined;
  });
  return context;
}
