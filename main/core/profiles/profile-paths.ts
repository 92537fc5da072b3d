import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the files live: libpq's service file and DBeaver's default workspace, per OS. */
export interface ProfilePaths {
  pgService: string;
  dbeaver: string;
}

/**
 * libpq reads `PGSERVICEFILE`, else `~/.pg_service.conf` (`%APPDATA%\postgresql\.pg_service.conf`
 * on Windows). DBeaver's default workspace: `~/.local/share/DBeaverData` on Linux,
 * `~/Library/DBeaverData` on macOS, `%APPDATA%\DBeaverData` on Windows.
 */
export function profilePaths(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = env.HOME ?? homedir()): ProfilePaths {
  const appData = env.APPDATA ?? join(home, 'AppData', 'Roaming');
  const pgService = env.PGSERVICEFILE ?? (platform === 'win32' ? join(appData, 'postgresql', '.pg_service.conf') : join(home, '.pg_service.conf'));
  const dbeaverData =
    platform === 'win32'
      ? join(appData, 'DBeaverData')
      : platform === 'darwin'
        ? join(home, 'Library', 'DBeaverData')
        : join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'DBeaverData');
  return { pgService, dbeaver: join(dbeaverData, 'workspace6', 'General', '.dbeaver', 'data-sources.json') };
}
