import { request } from 'undici';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike, type ErrorCode } from '../../proxy-core/src/errors.ts';
import { createLogger } from '../../proxy-core/src/log.ts';
import { generateKeyPair } from '../../proxy-core/src/tls/keys.ts';
import { saveIdentity, type GatewayIdentity } from './identity.ts';

const log = createLogger('gateway.enroll');

interface EnrollResponse {
  gatewayId: string;
  name?: string;
  certificatePem: string;
  caCertificatePem: string;
}

/**
 * Enrolls with a one-time token: generates a key pair, sends the public key, stores the key,
 * the issued certificate and the CA certificate in the data dir. A used or expired token
 * fails with the server's own error code and message.
 */
export async function enrollGateway(opts: { domain: string; token: string; dataDir: string }): Promise<GatewayIdentity> {
  const { publicKeyPem, privateKeyPem } = generateKeyPair();
  const url = new URL('/api/v1/gateways/enroll', opts.domain);
  let statusCode: number;
  let body: unknown;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: opts.token, publicKeyPem }),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    statusCode = res.statusCode;
    body = await res.body.json().catch(() => undefined);
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.SERVER_UNREACHABLE, `could not reach the control plane at ${opts.domain}: ${(cause as Error).message}`, { cause });
  }
  if (statusCode >= 400) throw serverError(statusCode, body);
  const enrolled = body as Partial<EnrollResponse> | undefined;
  if (!enrolled || typeof enrolled.gatewayId !== 'string' || typeof enrolled.certificatePem !== 'string' || typeof enrolled.caCertificatePem !== 'string') {
    throw new GatehouseError(ErrorCodes.PROTOCOL, 'the control plane answered the enrollment with an unexpected body');
  }
  const identity: GatewayIdentity = {
    gatewayId: enrolled.gatewayId,
    name: typeof enrolled.name === 'string' ? enrolled.name : undefined,
    keyPem: privateKeyPem,
    certPem: enrolled.certificatePem,
    caPem: enrolled.caCertificatePem,
  };
  await saveIdentity(opts.dataDir, identity);
  log.info({ gatewayId: identity.gatewayId, dataDir: opts.dataDir }, 'gateway enrolled');
  return identity;
}

function serverError(statusCode: number, body: unknown): GatehouseError {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (isGatehouseErrorLike(error)) return new GatehouseError(error.code as ErrorCode, error.message);
  const code = statusCode === 401 || statusCode === 403 || statusCode === 410 ? ErrorCodes.ENROLLMENT_TOKEN_INVALID : ErrorCodes.INTERNAL;
  return new GatehouseError(code, `the control plane refused the enrollment (HTTP ${statusCode})`);
}
