/**
 * "Open in psql": a terminal window running psql on the local URL.
 * Linux: x-terminal-emulator, gnome-terminal, konsole, xterm (first found);
 * macOS: a .command script opened with `open -a Terminal`; Windows: `cmd /c start`.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import type { LocalConnection } from './connection.ts';
import { findOnPath, isExecutable, type LaunchEnv } from './find-executable.ts';
import { spawnDetached } from './spawn-detached.ts';

export const LINUX_TERMINALS: { command: string; argsFor: (cmd: string[]) => string[] }[] = [
  { command: 'x-terminal-emulator', argsFor: (cmd) => ['-e', ...cmd] },
  { command: 'gnome-terminal', argsFor: (cmd) => ['--', ...cmd] },
  { command: 'konsole', argsFor: (cmd) => ['-e', ...cmd] },
  { command: 'xterm', argsFor: (cmd) => ['-e', ...cmd] },
];

const INSTALL_PSQL =
  'psql was not found. Install the PostgreSQL client (Debian/Ubuntu: sudo apt install postgresql-client; ' +
  'Fedora: sudo dnf install postgresql; macOS: brew install libpq; Windows: the PostgreSQL installer), ' +
  'or set the path to psql in Settings.';

export async function findPsql(launch: LaunchEnv, configuredPath?: string): Promise<string> {
  if (configuredPath) {
    if (await isExecutable(configuredPath, launch.platform)) return configuredPath;
    throw new GatehouseError(ErrorCodes.CLIENT_NOT_FOUND, `psql was not found at ${configuredPath} (set in Settings); fix the path or clear it`);
  }
  const found = await findOnPath('psql', launch);
  if (!found) throw new GatehouseError(ErrorCodes.CLIENT_NOT_FOUND, INSTALL_PSQL);
  return found;
}

export async function openPsql(conn: LocalConnection, launch: LaunchEnv, opts: { psqlPath?: string } = {}): Promise<void> {
  const psql = await findPsql(launch, opts.psqlPath);
  if (launch.platform === 'darwin') return openInMacTerminal(psql, conn.url, launch);
  if (launch.platform === 'win32') {
    const cmd = launch.env.ComSpec ?? 'cmd.exe';
    return spawnDetached(cmd, ['/c', 'start', `Gatehouse ${conn.label}`, psql, conn.url], launch.env);
  }
  for (const terminal of LINUX_TERMINALS) {
    const path = await findOnPath(terminal.command, launch);
    if (path) return spawnDetached(path, terminal.argsFor([psql, conn.url]), launch.env);
  }
  throw new GatehouseError(
    ErrorCodes.CLIENT_NOT_FOUND,
    `No terminal emulator was found (tried ${LINUX_TERMINALS.map((t) => t.command).join(', ')}). ` +
      'Install one (e.g. sudo apt install xterm), or copy the URL and run psql yourself.',
  );
}

/** Terminal.app runs a `.command` file it is asked to open. */
async function openInMacTerminal(psql: string, url: string, launch: LaunchEnv): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-psql-'));
  const script = join(dir, 'gatehouse-psql.command');
  await writeFile(script, `#!/bin/sh\nexec ${shellQuote(psql)} ${shellQuote(url)}\n`, { mode: 0o700 });
  await chmod(script, 0o700);
  return spawnDetached('open', ['-a', 'Terminal', script], launch.env);
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
