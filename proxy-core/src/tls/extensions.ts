import { isIP } from 'node:net';
import { x509 } from './x509.ts';

export type CertificateUsage = 'server' | 'client' | 'both';

/** `altNames` entries are DNS names or IP literals; this sorts them into SAN entries. */
export function altNamesToGeneralNames(altNames: readonly string[]): x509.JsonGeneralName[] {
  return altNames.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value }));
}

/** Extensions of an end-entity certificate (not a CA). */
export async function leafExtensions(opts: {
  usage: CertificateUsage;
  generalNames: x509.JsonGeneralName[];
  publicKey: BufferSource;
  authorityPublicKey?: x509.PublicKeyType;
}): Promise<x509.Extension[]> {
  const extendedUsages: string[] = [];
  if (opts.usage !== 'client') extendedUsages.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.usage !== 'server') extendedUsages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(extendedUsages, false),
    await x509.SubjectKeyIdentifierExtension.create(opts.publicKey),
  ];
  if (opts.generalNames.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(opts.generalNames, false));
  }
  if (opts.authorityPublicKey !== undefined) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(opts.authorityPublicKey));
  }
  return extensions;
}

/** Extensions of the internal CA certificate. */
export async function caExtensions(publicKey: x509.PublicKeyType): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}
