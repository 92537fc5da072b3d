import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';

/** Everything a gateway keeps after enrolling: its id, key, certificate and the CA to trust. */
export interface GatewayIdentity {
  gatewayId: string;
  name?: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

export const DEFAULT_DATA_DIR = './.gatehouse-gateway';

const FILES = {
  key: 'gateway.key',
  cert: 'gateway.crt',
  ca: 'ca.crt',
  info: 'gateway.json',
} as const;

/** `--data-dir`, else `GATEHOUSE_GATEWAY_DATA_DIR`, else `./.gatehouse-gateway`; absolute. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.GATEHOUSE_GATEWAY_DATA_DIR ?? DEFAULT_DATA_DIR);
}

/** Creates the data dir (0700) if needed. */
export async function ensureDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
}

/** The stored identity, or undefined when the gateway has not enrolled yet. */
export async function loadIdentity(dataDir: string): Promise<GatewayIdentity | undefined> {
  let infoText: string;
  try {
    infoText = await readFile(join(dataDir, FILES.info), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const info = JSON.parse(infoText) as { gatewayId?: unknown; name?: unknown };
    if (typeof info.gatewayId !== 'string') throw new Error('gatewayId missing');
    const [keyPem, certPem, caPem] = await Promise.all([
      readFile(join(dataDir, FILES.key), 'utf8'),
      readFile(join(dataDir, FILES.cert), 'utf8'),
      readFile(join(dataDir, FILES.ca), 'utf8'),
    ]);
    return { gatewayId: info.gatewayId, name: typeof info.name === 'string' ? info.name : undefined, keyPem, certPem, caPem };
  } catch (cause) {
    throw new GatehouseError(ErrorCodes.CONFIG, `the gateway identity in ${dataDir} is incomplete or damaged; enroll again with a new token`, { cause });
  }
}

/**
 * Persists an identity. The key is written 0600; every file is written to a temporary name
 * and renamed, and the info file (which marks the identity complete) goes last.
 */
export async function saveIdentity(dataDir: string, identity: GatewayIdentity): Promise<void> {
  await ensureDataDir(dataDir);
  await writeAtomic(join(dataDir, FILES.key), identity.keyPem, 0o600);
  await writeAtomic(join(dataDir, FILES.cert), identity.certPem, 0o644);
  await writeAtomic(join(dataDir, FILES.ca), identity.caPem, 0o644);
  const info = { gatewayId: identity.gatewayId, name: identity.name, enrolledAt: new Date().toISOString() };
  await writeAtomic(join(dataDir, FILES.info), `${JSON.stringify(info, null, 2)}\n`, 0o644);
}

async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}
