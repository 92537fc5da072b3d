import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';

export type Platform = 'linux' | 'darwin' | 'win32';

export interface LaunchEnv {
  platform: Platform;
  env: NodeJS.ProcessEnv;
  home: string;
}

/** The first directory on PATH holding an executable `name` (with PATHEXT on Windows). */
export async function findOnPath(name: string, { platform, env }: Pick<LaunchEnv, 'platform' | 'env'>): Promise<string | undefined> {
  const pathVar = env.PATH ?? env.Path ?? '';
  const dirs = pathVar.split(platform === 'win32' ? ';' : ':').filter(Boolean);
  const exts = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map((e) => e.toLowerCase())] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (await isExecutable(candidate, platform)) return candidate;
    }
  }
  return undefined;
}

export async function isExecutable(path: string, platform: Platform): Promise<boolean> {
  try {
    await access(path, platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `paths` that is an executable file. */
export async function firstExecutable(paths: string[], platform: Platform): Promise<string | undefined> {
  for (const path of paths) if (await isExecutable(path, platform)) return path;
  return undefined;
}
