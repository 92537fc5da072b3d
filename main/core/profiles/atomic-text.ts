import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a text file atomically (temp file in the same directory, then rename), keeping the
 * mode of the file it replaces (else `mode`).
 */
export async function writeTextFileAtomic(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const keep = await stat(path).then(
    (s) => s.mode & 0o777,
    () => mode,
  );
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode: keep, flag: 'wx' });
    await chmod(tmp, keep);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
