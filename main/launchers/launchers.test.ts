/**
 * The launchers run real executables found on a temporary PATH: small shell scripts that
 * record the exact argv they were started with.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../proxy-core/src/errors.ts';
import { dbeaverConnectionSpec, jdbcUrl, openDbeaver, openPsql, type LaunchEnv, type LocalConnection } from './index.ts';

const conn: LocalConnection = {
  host: '127.0.0.1',
  port: 54021,
  database: 'shop',
  username: 'readonly',
  url: 'postgresql://readonly@127.0.0.1:54021/shop',
  label: 'shop / readonly',
};

let root: string;
let bin: string;
let calls: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-launch-'));
  bin = join(root, 'bin');
  calls = join(root, 'calls');
  await mkdir(bin);
  await mkdir(calls);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A program that writes its argv (NUL-separated) to calls/<name>. */
async function fakeProgram(name: string, dir = bin): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nprintf '%s\\0' "$@" > "${calls}/${name}.tmp" && /bin/mv "${calls}/${name}.tmp" "${calls}/${name}"\n`);
  await chmod(path, 0o755);
  return path;
}

async function argvOf(name: string): Promise<string[]> {
  const file = join(calls, name);
  for (let i = 0; i < 100; i++) {
    try {
      const text = await readFile(file, 'utf8');
      return text.split('\0').slice(0, -1);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`${name} was never started`);
}

function launchEnv(platform: LaunchEnv['platform'] = 'linux', extra: NodeJS.ProcessEnv = {}): LaunchEnv {
  return { platform, env: { PATH: bin, ...extra }, home: root };
}

describe('Open in psql', () => {
  it('runs psql on the URL in x-terminal-emulator when present', async () => {
    const psql = await fakeProgram('psql');
    await fakeProgram('x-terminal-emulator');
    await fakeProgram('xterm');
    await openPsql(conn, launchEnv());
    expect(await argvOf('x-terminal-emulator')).toEqual(['-e', psql, conn.url]);
  });

  it('falls back to gnome-terminal with "--", then konsole, then xterm', async () => {
    const psql = await fakeProgram('psql');
    await fakeProgram('gnome-terminal');
    await openPsql(conn, launchEnv());
    expect(await argvOf('gnome-terminal')).toEqual(['--', psql, conn.url]);

    await rm(join(bin, 'gnome-terminal'));
    await fakeProgram('konsole');
    await openPsql(conn, launchEnv());
    expect(await argvOf('konsole')).toEqual(['-e', psql, conn.url]);

    await rm(join(bin, 'konsole'));
    await fakeProgram('xterm');
    await openPsql(conn, launchEnv());
    expect(await argvOf('xterm')).toEqual(['-e', psql, conn.url]);
  });

  it('uses the psql path from settings', async () => {
    const other = join(root, 'pg', 'bin');
    await mkdir(other, { recursive: true });
    const psql = await fakeProgram('psql', other);
    await fakeProgram('xterm');
    await openPsql(conn, launchEnv(), { psqlPath: psql });
    expect(await argvOf('xterm')).toEqual(['-e', psql, conn.url]);
  });

  it('opens a .command script with Terminal on macOS', async () => {
    const psql = await fakeProgram('psql');
    await fakeProgram('open');
    await openPsql(conn, launchEnv('darwin'));
    const argv = await argvOf('open');
    expect(argv.slice(0, 2)).toEqual(['-a', 'Terminal']);
    expect(argv[2]).toMatch(/gatehouse-psql\.command$/);
    expect(await readFile(argv[2], 'utf8')).toBe(`#!/bin/sh\nexec '${psql}' '${conn.url}'\n`);
    await rm(join(argv[2], '..'), { recursive: true, force: true });
  });

  it('uses cmd /c start on Windows', async () => {
    const psql = await fakeProgram('psql');
    const cmd = await fakeProgram('cmd');
    await openPsql(conn, launchEnv('win32', { ComSpec: cmd, PATHEXT: '.EXE' }));
    expect(await argvOf('cmd')).toEqual(['/c', 'start', 'Gatehouse shop / readonly', psql, conn.url]);
  });

  it('says how to install psql when it is missing', async () => {
    await fakeProgram('xterm');
    await expect(openPsql(conn, launchEnv())).rejects.toMatchObject({
      code: ErrorCodes.CLIENT_NOT_FOUND,
      message: expect.stringMatching(/apt install postgresql-client.*Settings/),
    });
  });

  it('says so when no terminal emulator exists', async () => {
    await fakeProgram('psql');
    await expect(openPsql(conn, launchEnv())).rejects.toMatchObject({
      code: ErrorCodes.CLIENT_NOT_FOUND,
      message: expect.stringContaining('x-terminal-emulator, gnome-terminal, konsole, xterm'),
    });
  });
});

describe('Open in DBeaver', () => {
  const spec = 'driver=postgresql|host=127.0.0.1|port=54021|database=shop|user=readonly|name=Gatehouse shop / readonly|save=false';

  it('starts dbeaver from PATH with a ready connection', async () => {
    await fakeProgram('dbeaver');
    await openDbeaver(conn, launchEnv());
    expect(await argvOf('dbeaver')).toEqual(['-con', spec]);
  });

  it('uses the path set in settings, and reports a wrong one', async () => {
    const custom = join(root, 'opt');
    await mkdir(custom);
    const path = await fakeProgram('dbeaver', custom);
    await openDbeaver(conn, launchEnv(), { dbeaverPath: path });
    expect(await argvOf('dbeaver')).toEqual(['-con', spec]);
    await expect(openDbeaver(conn, launchEnv(), { dbeaverPath: join(custom, 'nope') })).rejects.toMatchObject({
      code: ErrorCodes.CLIENT_NOT_FOUND,
      message: expect.stringContaining('Settings'),
    });
  });

  it('says where to get DBeaver when it is missing', async () => {
    await expect(openDbeaver(conn, launchEnv())).rejects.toMatchObject({
      code: ErrorCodes.CLIENT_NOT_FOUND,
      message: expect.stringContaining('https://dbeaver.io/download/'),
    });
  });

  it('keeps "|" out of connection fields', () => {
    expect(dbeaverConnectionSpec({ ...conn, label: 'a|b' })).toContain('|name=Gatehouse a/b|');
  });
});

describe('JDBC URL', () => {
  it('points at the local proxy with the user and no password', () => {
    expect(jdbcUrl(conn)).toBe('jdbc:postgresql://127.0.0.1:54021/shop?user=readonly');
    expect(jdbcUrl({ ...conn, database: 'my db', username: 'a&b' })).toBe('jdbc:postgresql://127.0.0.1:54021/my%20db?user=a%26b');
  });
});
