import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { configDir } from '../../core/config-dir.ts';
import { SettingsStore } from '../../core/settings/settings-store.ts';
import { err, out, type CliIo } from '../io.ts';

const COMMAND = 'logout';

/** Signs out; when already signed out it says so and exits 0 (nothing left to do). */
export async function logout(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, COMMON_OPTIONS);
  if (values.domain === undefined && (await new SettingsStore({ dir: configDir(io.env) }).getDomain()) === undefined) {
    out(io, 'Not signed in; nothing to do.');
    return 0;
  }
  const ctx = await openContext(io, COMMAND, values.domain);
  try {
    const signedIn = (await ctx.api.tokens.get()) !== undefined;
    const result = await ctx.api.logout();
    if ((await ctx.settings.getDomain()) === ctx.domain) await ctx.settings.setDomain(undefined);
    if (!signedIn) {
      out(io, `Not signed in to ${ctx.domain}; nothing to do.`);
      return 0;
    }
    if (result.error) err(io, `gatehouse: warning: the server was not told (${result.error.message})`);
    out(io, `Signed out of ${ctx.domain}.`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}
