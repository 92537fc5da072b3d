import { hasCode } from '../core/api/api-errors.ts';
import { isMfaChallenge, type LoginOutcome, type LoginResult, type MfaMethod } from '../core/api/types.ts';
import { ErrorCodes } from '../../proxy-core/src/errors.ts';
import type { CliContext } from './context.ts';
import { err, out, type CliIo } from './io.ts';
import { obtainMfaProof } from './mfa.ts';
import { askEnrollmentCode, printRecoveryCodes, showEnrollment } from './commands/mfa.ts';

/** Wrong codes typed at the prompt before giving up (the server's lockout still applies). */
const PROMPT_ATTEMPTS = 3;

export interface SecondFactorFlags {
  command: string;
  mfaCode?: string;
  mfaMethod?: MfaMethod;
}

/**
 * Finishes a sign-in (`login`, `invitations accept`): answers the server's MFA challenge
 * (enrolling TOTP first when the organization requires it), remembers the domain and says
 * where the tokens are kept.
 */
export async function completeSignIn(io: CliIo, ctx: CliContext, outcome: LoginOutcome, flags: SecondFactorFlags): Promise<LoginResult> {
  let result: LoginResult;
  if (!isMfaChallenge(outcome)) result = outcome;
  else if (outcome.mfaEnrollmentRequired) result = await enrollFirst(io, ctx, outcome.mfaToken, flags);
  else result = await secondFactor(io, ctx, outcome.mfaToken, outcome.methods, flags);
  await ctx.settings.setDomain(ctx.domain);
  const where = ctx.secrets.kind === 'keychain' ? 'the OS keychain' : `${ctx.dir}/secrets.json (mode 0600)`;
  out(io, `Signed in to ${ctx.domain} as ${result.user.email}. Tokens are kept in ${where}.`);
  return result;
}

/** The organization enforces TOTP and this user has none: enroll now, as part of signing in. */
async function enrollFirst(io: CliIo, ctx: CliContext, mfaToken: string, flags: SecondFactorFlags): Promise<LoginResult> {
  err(io, 'Your organization requires an authenticator app (TOTP); set it up now to finish signing in.');
  await showEnrollment(io, await ctx.api.enrollTotpWithChallenge(mfaToken));
  const code = flags.mfaCode ?? (await askEnrollmentCode(io, flags.command, '--mfa-code'));
  const result = await ctx.api.confirmTotpWithChallenge(mfaToken, code.trim());
  printRecoveryCodes(io, result.recoveryCodes);
  return result;
}

async function secondFactor(io: CliIo, ctx: CliContext, mfaToken: string, methods: readonly MfaMethod[], flags: SecondFactorFlags): Promise<LoginResult> {
  let emailSent = false;
  for (let attempt = 1; ; attempt++) {
    const proof = await obtainMfaProof(io, {
      command: flags.command,
      methods,
      flagCode: flags.mfaCode,
      flagMethod: flags.mfaMethod,
      sendEmail: async () => {
        if (emailSent) return; // one mail per sign-in; the code stays valid for 10 minutes
        await ctx.api.sendEmailCode(mfaToken);
        emailSent = true;
      },
    });
    try {
      return await ctx.api.verifyMfa(mfaToken, proof);
    } catch (e) {
      if (!proof.prompted || attempt >= PROMPT_ATTEMPTS || !hasCode(e, ErrorCodes.MFA_INVALID)) throw e;
      err(io, `${(e as Error).message}. Try again.`);
    }
  }
}
