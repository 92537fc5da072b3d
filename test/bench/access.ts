/** `gatehouse db access` for the bench: signs in with the CLI and starts a local proxy. */
import { execFile, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Stack } from '../../server/demo/stack.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function startAccess(
  stack: Stack,
  home: string,
  account = 'bench',
): Promise<{ url: string; sessionId: string; pid: number | undefined; stop: () => Promise<void> }> {
  const env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_LOG_LEVEL: 'warn' };
  const cli = join(ROOT, 'bin', 'gatehouse.mjs');
  await run(process.execPath, [cli, 'login', '--domain', stack.domain, '--email', stack.email, '--password', stack.password], { env });
  const child = spawn(
    process.execPath,
    [cli, 'db', 'access', '--resource', stack.resource, '--account', account, '--project-id', stack.projectId, '--duration', '1h', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolveLine, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolveLine(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`gatehouse db access exited with ${code}`)));
  });
  const { url, sessionId } = JSON.parse(line) as { url: string; sessionId: string };
  return {
    url,
    sessionId,
    /** The CLI process that runs the local proxy. */
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
