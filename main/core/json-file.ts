import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';

/** Reads a JSON object file; a missing file is `undefined`, a corrupt one an error. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new GatehouseError(ErrorCodes.CONFIG, `${path} is not valid JSON; fix or delete it`, { cause: err });
  }
}

/**
 * Writes a JSON file atomically: a temp file with the final mode in the same directory,
 * then rename over the target (readers never see a half-written file).
 */
export async function writeJsonFileAtomic(path: string, value: unknown, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode, flag: 'wx' });
    await chmod(tmp, mode); // the umask may have narrowed or widened what `mode` asked for
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
