import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { out, type CliIo } from '../io.ts';
import { prompt } from '../prompt.ts';
import { UsageError } from '../usage-error.ts';

const COMMAND = 'login';

export async function login(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, {
    ...COMMON_OPTIONS,
    email: { type: 'string' },
    password: { type: 'string' },
  });
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
    const result = await ctx.api.login(email, password);
    await ctx.settings.setDomain(ctx.domain);
    const where = ctx.secrets.kind === 'keychain' ? 'the OS keychain' : `${ctx.dir}/secrets.json (mode 0600)`;
    out(io, `Signed in to ${ctx.domain} as ${result.user.email}. Tokens are kept in ${where}.`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}
