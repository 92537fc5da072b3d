/**
 * Which password methods the gateway answers (issue 10 item 2). SCRAM never reveals the
 * password to the server; MD5 gives a fake server a replayable hash and cleartext gives it the
 * password, so both are refused unless the resource explicitly allows them, and cleartext
 * additionally needs TLS that verified the server.
 */
import { ErrorCodes } from '../errors.ts';
import { INVALID_AUTHORIZATION } from '../protocol/sqlstate.ts';
import type { UpstreamAuthMethods } from './types.ts';
import { UpstreamError } from './upstream-error.ts';

export interface PasswordMethodPolicy {
  authMethods: UpstreamAuthMethods | undefined;
  /** TLS is on and the server's certificate chain and host name were verified. */
  tlsVerified: boolean;
  where: string;
}

/** Throws unless the policy lets the gateway answer `method` with the account's password. */
export function assertPasswordMethodAllowed(method: 'md5' | 'cleartext', policy: PasswordMethodPolicy): void {
  const { where } = policy;
  if (method === 'md5') {
    if (policy.authMethods?.md5 === true) return;
    throw refused(
      `the database server at ${where} asks for MD5 authentication, which this resource does not allow`,
      'An instance admin can allow MD5 on this resource (allowMd5), or configure scram-sha-256 for the gateway in pg_hba.conf (recommended).',
    );
  }
  if (policy.authMethods?.cleartext !== true) {
    throw refused(
      `the database server at ${where} asks for a cleartext password, which this resource does not allow`,
      'An instance admin can allow cleartext on this resource (allowCleartext, verified TLS only), or configure scram-sha-256 for the gateway in pg_hba.conf (recommended).',
    );
  }
  if (!policy.tlsVerified) {
    throw refused(
      `the database server at ${where} asks for a cleartext password, which is sent only over TLS that verifies the server`,
      'Enable ssl with rejectUnauthorized on this resource (and a ca if needed), or use scram-sha-256.',
    );
  }
}

function refused(why: string, hint: string): UpstreamError {
  return new UpstreamError(ErrorCodes.UNSUPPORTED_AUTH, `${why}; the gateway sent no password`, { sqlstate: INVALID_AUTHORIZATION, hint });
}
