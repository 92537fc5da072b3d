/**
 * `npm start`: finds Electron's runtime (downloading it the way the electron package does
 * when it is missing), builds the desktop app and runs it. Without a runtime it prints one
 * line saying why and what to do, and exits 1, instead of the electron package's stack trace.
 * Run: node --import tsx main/electron/launch.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = join(root, 'node_modules', 'electron');

/** The Electron executable: GATEHOUSE_ELECTRON, ELECTRON_OVERRIDE_DIST_PATH, or the package's download. */
export function findElectron(env: NodeJS.ProcessEnv = process.env): { path: string } | { problem: string } {
  if (env.GATEHOUSE_ELECTRON) {
    return existsSync(env.GATEHOUSE_ELECTRON) ? { path: env.GATEHOUSE_ELECTRON } : { problem: `GATEHOUSE_ELECTRON=${env.GATEHOUSE_ELECTRON} does not exist` };
  }
  if (!existsSync(join(pkg, 'package.json'))) return { problem: 'the electron package is not installed (run npm install)' };
  const pathTxt = join(pkg, 'path.txt');
  const executable = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : undefined;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const path = join(env.ELECTRON_OVERRIDE_DIST_PATH, executable ?? 'electron');
    return existsSync(path) ? { path } : { problem: `ELECTRON_OVERRIDE_DIST_PATH has no ${executable ?? 'electron'} (${path})` };
  }
  const path = executable && join(pkg, 'dist', executable);
  return path && existsSync(path) ? { path } : { problem: "Electron's runtime was never downloaded (node_modules/electron/dist is missing)" };
}

/** The electron package's own installer; its output is kept, only its last line is shown. */
function download(): string | undefined {
  process.stderr.write("npm start: downloading Electron's runtime…\n");
  const run = spawnSync(process.execPath, [join(pkg, 'install.js')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (run.status === 0) return undefined;
  const lines = `${run.stderr ?? ''}${run.error ? String(run.error) : ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '));
  return lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? `exit ${run.status}`;
}

async function main(): Promise<number> {
  let found = findElectron();
  if ('problem' in found && !process.env.GATEHOUSE_ELECTRON && !process.env.ELECTRON_OVERRIDE_DIST_PATH && existsSync(join(pkg, 'install.js'))) {
    const failure = download();
    found = findElectron();
    if ('problem' in found && failure) found = { problem: `${found.problem} and the download failed (${failure})` };
  }
  if ('problem' in found) {
    process.stderr.write(
      `npm start: cannot run the desktop app: ${found.problem}. Connect to the internet and run npm start again, or point GATEHOUSE_ELECTRON at an Electron binary; the CLI (npx gatehouse) and the web console (npm run demo) work without it.\n`,
    );
    return 1;
  }
  const build = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'main/electron/build.ts')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  const child = spawn(found.path, [join(root, 'dist/electron/main.cjs')], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((done) => child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0))));
}

process.exitCode = await main();
