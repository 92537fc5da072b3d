/** What `gatehouse-server audit verify` checks the chain with: the checkpoint key and the checkpoints kept outside the database. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { deriveKeys } from '../crypto/keys.ts';
import { loadRootKey, ROOT_KEY_FILE } from '../crypto/root-key.ts';
import { CHECKPOINT_FILE, CheckpointSigner, parseCheckpointLines, type AuditCheckpoint } from './checkpoint.ts';

/** The public key from `--public-key FILE` (PEM), else derived from the root key; never creates a root key. */
export async function readCheckpointKey(config: { dataDir: string; rootKeyBase64?: string }, publicKeyFile: string | undefined): Promise<KeyObject> {
  if (publicKeyFile !== undefined && publicKeyFile !== 'true') return createPublicKey(await readFile(publicKeyFile, 'utf8'));
  if (config.rootKeyBase64 === undefined && !(await exists(join(config.dataDir, ROOT_KEY_FILE)))) {
    throw new GatehouseError(
      ErrorCodes.CONFIG,
      `audit verify needs the server's root key (GATEHOUSE_ROOT_KEY or ${join(config.dataDir, ROOT_KEY_FILE)}) or --public-key FILE to check the signed checkpoints`,
    );
  }
  return new CheckpointSigner(deriveKeys(await loadRootKey(config)).auditSigningSeed).publicKey;
}

/** Checkpoints from the data dir's file (when present) and from `--checkpoints FILE`. */
export async function readCheckpointFiles(dataDir: string, extraFile: string | undefined): Promise<AuditCheckpoint[]> {
  const files = [join(dataDir, CHECKPOINT_FILE), ...(extraFile !== undefined && extraFile !== 'true' ? [extraFile] : [])];
  const found: AuditCheckpoint[] = [];
  for (const [i, file] of files.entries()) {
    if (i === 0 && !(await exists(file))) continue;
    found.push(...parseCheckpointLines(await readFile(file, 'utf8')));
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
