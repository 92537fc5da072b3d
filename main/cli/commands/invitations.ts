import type { InvitationPreview } from '../../core/api/api-client.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { err, out, type CliIo } from '../io.ts';
import { MFA_OPTIONS, parseMfaMethod } from '../mfa.ts';
import { prompt } from '../prompt.ts';
import { completeSignIn } from '../sign-in.ts';
import { UsageError } from '../usage-error.ts';
import { withSchemeHint } from './login.ts';

const COMMAND = 'invitations accept';
const MIN_PASSWORD = 8;
const PROMPT_ATTEMPTS = 3;

/**
 * `gatehouse invitations accept <link-or-code>`: sets your password (or, when the invited email
 * already has an account, asks for its password and joins the project), signs you in (enrolling
 * an authenticator first when the organization requires one) and says what to run next.
 * The link carries the server's address; a bare code needs --domain (or a signed-in one).
 */
export async function invitationsAccept(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    COMMAND,
    argv,
    {
      ...COMMON_OPTIONS,
      ...MFA_OPTIONS,
      password: { type: 'string' },
      name: { type: 'string' },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('the invitation link (or its code) is required: gatehouse invitations accept <link-or-code>', COMMAND);
  if (positionals.length > 1) throw new UsageError(`one invitation at a time (got ${positionals.length} arguments; quote the link)`, COMMAND);
  const { code, domain: linkDomain } = parseInvitation(positionals[0]);
  const mfaMethod = parseMfaMethod(COMMAND, values['mfa-method']);
  if (values.password === undefined && !io.stdin.isTTY) throw new UsageError('--password is required when not on a terminal', COMMAND);
  const ctx = await openContext(io, COMMAND, values.domain ?? linkDomain);
  try {
    const hinted = (e: unknown) => {
      throw withSchemeHint(e, values.domain, ctx.domain);
    };
    const password = values.password ?? (await askPassword(io, await ctx.api.previewInvitation(code).catch(hinted)));
    const outcome = await ctx.api.acceptInvitation(code, password, values.name).catch(hinted);
    await completeSignIn(io, ctx, outcome, { command: COMMAND, mfaCode: values['mfa-code'], mfaMethod });
    out(io, '');
    out(io, 'Next:');
    out(io, '  gatehouse accounts list                              what you may access');
    out(io, '  gatehouse db access --resource R --account A         a local URL for psql and any client');
    return 0;
  } finally {
    await ctx.api.close();
  }
}

/** `https://host/accept-invitation#code=ghi_…` (the link the admin got), or the code alone. */
export function parseInvitation(input: string): { code: string; domain?: string } {
  const text = input.trim();
  if (!/^https?:\/\//i.test(text)) {
    if (text === '' || /\s/.test(text)) throw new UsageError(`"${input}" is neither an invitation link nor a code`, COMMAND);
    return { code: text };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${input}" is not a valid link; paste the whole invitation link`, COMMAND);
  }
  const code = new URLSearchParams(url.hash.slice(1)).get('code') ?? url.searchParams.get('code');
  if (!code) throw new UsageError('the link has no code=… in it; paste the whole invitation link (quote it in the shell)', COMMAND);
  return { code, domain: url.origin };
}

/** A new account chooses a password; an email that already has one enters its password to join. */
async function askPassword(io: CliIo, preview: InvitationPreview): Promise<string> {
  if (!preview.existingAccount) return choosePassword(io);
  const { email, projectName } = preview.invitation;
  out(io, `You already have a Gatehouse account (${email}): enter its password to join ${projectName ?? 'the project'}.`);
  const password = await prompt(io, `Password for ${email}: `, { hidden: true });
  if (password === '') throw new UsageError('no password given; run the command again', COMMAND);
  return password;
}

async function choosePassword(io: CliIo): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const first = await prompt(io, `Choose a password (at least ${MIN_PASSWORD} characters): `, { hidden: true });
    const problem =
      first.length < MIN_PASSWORD
        ? `that is ${first.length} characters; at least ${MIN_PASSWORD} are needed`
        : (await prompt(io, 'Type it again: ', { hidden: true })) !== first
          ? 'the two did not match'
          : undefined;
    if (!problem) return first;
    if (attempt >= PROMPT_ATTEMPTS) throw new UsageError(`${problem}; run the command again`, COMMAND);
    err(io, `${problem[0].toUpperCase()}${problem.slice(1)}. Try again.`);
  }
}
