/**
 * "Open in DBeaver": starts DBeaver with a ready (unsaved) connection to the local proxy:
 * `dbeaver -con "driver=postgresql|host=…|port=…|database=…|user=…|name=…|save=false"`.
 */
import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import type { LocalConnection } from './connection.ts';
import { findOnPath, firstExecutable, isExecutable, type LaunchEnv } from './find-executable.ts';
import { spawnDetached } from './spawn-detached.ts';

/** Where the DBeaver installers and package managers put it, per OS. */
export function dbeaverInstallPaths({ platform, env, home }: LaunchEnv): string[] {
  if (platform === 'darwin') {
    return ['/Applications/DBeaver.app/Contents/MacOS/dbeaver', join(home, 'Applications/DBeaver.app/Contents/MacOS/dbeaver')];
  }
  if (platform === 'win32') {
    const roots = [env.ProgramFiles, env['ProgramFiles(x86)'], env.LOCALAPPDATA].filter((r): r is string => Boolean(r));
    return roots.map((root) => `${root}\\DBeaver\\dbeaver.exe`);
  }
  return [
    '/usr/bin/dbeaver',
    '/usr/bin/dbeaver-ce',
    '/usr/share/dbeaver-ce/dbeaver',
    '/usr/share/dbeaver/dbeaver',
    '/opt/dbeaver/dbeaver',
    '/opt/dbeaver-ce/dbeaver',
    '/snap/bin/dbeaver-ce',
    '/var/lib/flatpak/exports/bin/io.dbeaver.DBeaverCommunity',
    join(home, '.local/share/flatpak/exports/bin/io.dbeaver.DBeaverCommunity'),
  ];
}

export async function findDbeaver(launch: LaunchEnv, configuredPath?: string): Promise<string> {
  if (configuredPath) {
    if (await isExecutable(configuredPath, launch.platform)) return configuredPath;
    throw new GatehouseError(ErrorCodes.CLIENT_NOT_FOUND, `DBeaver was not found at ${configuredPath} (set in Settings); fix the path or clear it`);
  }
  const found =
    (await findOnPath('dbeaver', launch)) ?? (await findOnPath('dbeaver-ce', launch)) ?? (await firstExecutable(dbeaverInstallPaths(launch), launch.platform));
  if (!found) {
    throw new GatehouseError(
      ErrorCodes.CLIENT_NOT_FOUND,
      'DBeaver was not found. Install it from https://dbeaver.io/download/ (or: sudo snap install dbeaver-ce, ' +
        'brew install --cask dbeaver-community), or set the path to the dbeaver executable in Settings.',
    );
  }
  return found;
}

/** The `-con` argument. `|` separates fields, so it is kept out of values. */
export function dbeaverConnectionSpec(conn: LocalConnection): string {
  const clean = (v: string | number) => String(v).replaceAll('|', '/');
  return [
    'driver=postgresql',
    `host=${clean(conn.host)}`,
    `port=${clean(conn.port)}`,
    `database=${clean(conn.database)}`,
    `user=${clean(conn.username)}`,
    `name=${clean(`Gatehouse ${conn.label}`)}`,
    'save=false',
  ].join('|');
}

export async function openDbeaver(conn: LocalConnection, launch: LaunchEnv, opts: { dbeaverPath?: string } = {}): Promise<void> {
  const dbeaver = await findDbeaver(launch, opts.dbeaverPath);
  return spawnDetached(dbeaver, ['-con', dbeaverConnectionSpec(conn)], launch.env);
}
