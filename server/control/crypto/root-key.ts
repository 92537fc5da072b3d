/**
 * The root key: 32 random bytes kept outside the database (GATEHOUSE_ROOT_KEY, or a 0600
 * file `root.key` in the data dir, created on first start).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

export const ROOT_KEY_BYTES = 32;
export const ROOT_KEY_FILE = 'root.key';

export async function loadRootKey(options: { dataDir: string; rootKeyBase64?: string }): Promise<Buffer> {
  if (options.rootKeyBase64 !== undefined) return decodeRootKey(options.rootKeyBase64, 'GATEHOUSE_ROOT_KEY');
  const file = join(options.dataDir, ROOT_KEY_FILE);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  try {
    return decodeRootKey((await readFile(file, 'utf8')).trim(), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(ROOT_KEY_BYTES);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return decodeRootKey((await readFile(file, 'utf8')).trim(), file);
    throw err;
  }
  await chmod(file, 0o600);
  return key;
}

function decodeRootKey(text: string, source: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== ROOT_KEY_BYTES || key.toString('base64') !== text) {
    throw new GatehouseError(ErrorCodes.CONFIG, `${source} must be the base64 encoding of ${ROOT_KEY_BYTES} bytes`);
  }
  return key;
}
