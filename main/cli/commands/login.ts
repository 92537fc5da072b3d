import { hasCode } from '../../core/api/api-errors.ts';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { MFA_OPTIONS, parseMfaMethod } from '../mfa.ts';
import { prompt } from '../prompt.ts';
import { completeSignIn } from '../sign-in.ts';
import { UsageError } from '../usage-error.ts';

const COMMAND = 'login';

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
    const outcome = await ctx.api.login(email, password).catch((e: unknown) => {
      throw withSchemeHint(e, values.domain, ctx.domain);
    });
    await completeSignIn(io, ctx, outcome, { command: COMMAND, mfaCode: values['mfa-code'], mfaMethod: flagMethod });
    return 0;
  } finally {
    await ctx.api.close();
  }
}

/**
 * `--domain host:port` gets https://; when that fails at the connection (a plain-HTTP server
 * answers TLS with garbage or a reset), say how to ask for http.
 */
export function withSchemeHint(e: unknown, raw: string | undefined, domain: string): unknown {
  if (raw === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.trim()) || !hasCode(e, ErrorCodes.SERVER_UNREACHABLE)) return e;
  const http = domain.replace(/^https:/, 'http:');
  return new GatehouseError(
    ErrorCodes.SERVER_UNREACHABLE,
    `${(e as Error).message}. No scheme was given, so https was tried; if the server speaks plain HTTP, use --domain ${http}`,
    { cause: e },
  );
}
