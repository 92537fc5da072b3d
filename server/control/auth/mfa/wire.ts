/** Builds the MFA, sign-in, lockout and audit-export services from the config (used by app.ts). */
import { createHmac } from 'node:crypto';
import type { Audit } from '../../audit.ts';
import { AuditStreams } from '../../audit/stream.ts';
import type { ControlPlaneConfig } from '../../config.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { createMailer, type Mailer } from '../../mail/mailer.ts';
import type { Store } from '../../store/store.ts';
import type { AuthService } from '../auth-service.ts';
import { Lockout } from '../lockout.ts';
import { MfaService } from './mfa-service.ts';
import { MfaTokens } from './mfa-token.ts';
import { SignInService } from './sign-in.ts';

const MFA_TOKEN_TTL_SECONDS = 10 * 60;

export interface MfaServices {
  mfa: MfaService;
  signIn: SignInService;
  auditStreams: AuditStreams;
  mailer: Mailer;
}

export function createMfaServices(options: {
  store: Store;
  auth: AuthService;
  box: SecretBox;
  audit: Audit;
  tokenSigningKey: Buffer;
  config: ControlPlaneConfig;
}): MfaServices {
  const { store, auth, box, audit, config } = options;
  const minutes = config.lockoutMinutes * 60_000;
  const lockout = new Lockout(store.db, { windowMs: minutes, lockMs: minutes });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom });
  const codeKey = createHmac('sha256', options.tokenSigningKey).update('gatehouse/mfa-codes/v1').digest();
  const mfa = new MfaService({ store, box, mailer, lockout, audit, codeKey, maxFailures: config.mfaMaxFailures });
  const tokens = new MfaTokens(options.tokenSigningKey, MFA_TOKEN_TTL_SECONDS);
  const signIn = new SignInService({
    store,
    auth,
    mfa,
    tokens,
    lockout,
    audit,
    loginMaxFailures: config.loginMaxFailures,
    loginMaxFailuresPerUser: config.loginMaxFailuresPerUser,
    windowMs: minutes,
  });
  return { mfa, signIn, auditStreams: new AuditStreams({ events: store.auditEvents, audit }), mailer };
}
