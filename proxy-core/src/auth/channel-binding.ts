/**
 * `tls-server-end-point` channel binding data (RFC 5929 §4.1): the hash of the server
 * certificate's DER, with the certificate's signature hash; MD5 and SHA-1 become SHA-256.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, GatehouseError } from '../errors.ts';

/** DER-encoded signature algorithm OIDs (the bytes after tag 0x06 and length). */
const HASH_BY_OID: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '2a864886f70d010104': 'sha256', // md5WithRSAEncryption
  '2a864886f70d010105': 'sha256', // sha1WithRSAEncryption
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
  '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
  '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
  '2a8648ce3d0401': 'sha256', // ecdsa-with-SHA1
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
  '2a8648ce380403': 'sha256', // dsa-with-sha1
  '608648016503040302': 'sha256', // dsa-with-sha256
};

export function tlsServerEndPoint(certDer: Buffer): Buffer {
  const oid = signatureAlgorithmOid(certDer);
  const hash = HASH_BY_OID[oid];
  if (!hash) {
    throw new GatehouseError(
      ErrorCodes.UNSUPPORTED_AUTH,
      `cannot compute tls-server-end-point channel binding for a certificate signed with OID ${oidToDotted(oid)}`,
    );
  }
  return createHash(hash).update(certDer).digest();
}

/** Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, … }, … } */
function signatureAlgorithmOid(der: Buffer): string {
  const cert = readTlv(der, 0, 0x30);
  const tbs = readTlv(der, cert.start, 0x30);
  const algo = readTlv(der, tbs.end, 0x30);
  const oid = readTlv(der, algo.start, 0x06);
  return der.subarray(oid.start, oid.end).toString('hex');
}

function readTlv(der: Buffer, at: number, tag: number): { start: number; end: number } {
  const bad = () => new GatehouseError(ErrorCodes.UPSTREAM_TLS, 'the server certificate is not valid DER');
  if (der[at] !== tag || at + 2 > der.length) throw bad();
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) throw bad();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  if (start + len > der.length) throw bad();
  return { start, end: start + len };
}

function oidToDotted(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  if (b.length === 0) return '?';
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (const byte of b.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
