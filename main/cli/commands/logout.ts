import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { err, out, type CliIo } from '../io.ts';

const COMMAND = 'logout';

export async function logout(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, COMMON_OPTIONS);
  const ctx = await openContext(io, COMMAND, values.domain);
  try {
    const result = await ctx.api.logout();
    if ((await ctx.settings.getDomain()) === ctx.domain) await ctx.settings.setDomain(undefined);
    if (result.error) err(io, `gatehouse: warning: the server was not told (${result.error.message})`);
    out(io, `Signed out of ${ctx.domain}.`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}
