export { jdbcUrl, type LocalConnection } from './connection.ts';
export { openPsql, findPsql, LINUX_TERMINALS, shellQuote } from './psql.ts';
export { openDbeaver, findDbeaver, dbeaverConnectionSpec, dbeaverInstallPaths } from './dbeaver.ts';
export { findOnPath, type LaunchEnv, type Platform } from './find-executable.ts';

import { homedir } from 'node:os';
import type { LaunchEnv, Platform } from './find-executable.ts';

/** The launch environment of this process. */
export function currentLaunchEnv(): LaunchEnv {
  const platform: Platform = process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
  return { platform, env: process.env, home: homedir() };
}
