import { hasCode } from '../../core/api/api-errors.ts';
import { isMfaChallenge, type LoginResult, type MfaMethod } from '../../core/api/types.ts';
import { ErrorCodes } from '../../../proxy-core/src/errors.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext, type CliContext } from '../context.ts';
import { err, out, type CliIo } from '../io.ts';
import { MFA_OPTIONS, obtainMfaProof, parseMfaMethod } from '../mfa.ts';
import { prompt } from '../prompt.ts';
import { askEnrollmentCode, printRecoveryCodes, showEnrollment } from './mfa.ts';
import { UsageError } from '../usage-error.ts';

const COMMAND = 'login';
/** Wrong codes typed at the prompt before giving up (the server's lockout still applies). */
const PROMPT_ATTEMPTS = 3;

export async function login(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, {
    ...COMMON_OPTIONS,
    ...MFA_OPTIONS,
    email: { type: 'string' },
    password: { type: 'string' },
  });
  const flagMethod = parseMfaMethod(COMMAND, values['mfa-method']);
  const ctx = await openContext(io, COMMAND, values.domain);
  try {
    let email = values.email;
    let password = values.password;
    if (email === undefined || password === undefined) {
      if (!io.stdin.isTTY) {
        throw new UsageError('--email and --password are required when not on a terminal', COMMAND);
      }
      email ??= (await prompt(io, 'Email: ')).trim();
      password ??= await prompt(io, 'Password: ', { hidden: true });
    }
    const outcome = await ctx.api.login(email, password);
    let result: LoginResult;
    if (!isMfaChallenge(outcome)) result = outcome;
    else if (outcome.mfaEnrollmentRequired) result = await enrollFirst(io, ctx, outcome.mfaToken, values['mfa-code']);
    else result = await secondFactor(io, ctx, outcome.mfaToken, outcome.methods, values['mfa-code'], flagMethod);
    await ctx.settings.setDomain(ctx.domain);
    const where = ctx.secrets.kind === 'keychain' ? 'the OS keychain' : `${ctx.dir}/secrets.json (mode 0600)`;
    out(io, `Signed in to ${ctx.domain} as ${result.user.email}. Tokens are kept in ${where}.`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}

/** The organization enforces TOTP and this user has none: enroll now, as part of signing in. */
async function enrollFirst(io: CliIo, ctx: CliContext, mfaToken: string, flagCode: string | undefined): Promise<LoginResult> {
  err(io, 'Your organization requires an authenticator app (TOTP); set it up now to finish signing in.');
  await showEnrollment(io, await ctx.api.enrollTotpWithChallenge(mfaToken));
  const code = flagCode ?? (await askEnrollmentCode(io, COMMAND, '--mfa-code'));
  const result = await ctx.api.confirmTotpWithChallenge(mfaToken, code.trim());
  printRecoveryCodes(io, result.recoveryCodes);
  return result;
}

async function secondFactor(
  io: CliIo, ctx: CliContext, mfaToken: string, methods: readonly MfaMethod[],
  flagCode: string | undefined, flagMethod: MfaMethod | undefined,
): Promise<LoginResult> {
  let emailSent = false;
  for (let attempt = 1; ; attempt++) {
    const proof = await obtainMfaProof(io, {
      command: COMMAND, methods, flagCode, flagMethod,
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
