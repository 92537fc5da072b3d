/**
 * Signed checkpoints of the audit chain: the chain head (seq and hash) signed with an Ed25519
 * key derived from the root key, so it is kept exactly like the root key, outside the database.
 * Whoever can rewrite the database cannot make a checkpoint; whoever holds the public key can
 * check one. docs/security.md "Audit checkpoints" describes the format:
 *
 *   { "v": 1, "seq": 42, "hash": "<hex sha256 chain hash of event 42>", "at": "<ISO time>",
 *     "keyId": "<first 16 hex of sha256(raw public key)>", "signature": "<base64url Ed25519>" }
 *
 * signed over the UTF-8 bytes of `gatehouse-audit-checkpoint/v1\n<seq>\n<hash>\n<at>`.
 * A checkpoint travels as the details of an `audit.checkpoint` event (the chain, the export and
 * the SIEM stream), as a log line (`checkpoint` field) and as a line of
 * `<dataDir>/audit-checkpoints.ndjson`; `parseCheckpointLines` reads any of those.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { CHECKPOINT_ACTION } from '../store/audit-chain.ts';

export { CHECKPOINT_ACTION };
export const CHECKPOINT_FILE = 'audit-checkpoints.ndjson';

const checkpointSchema = z.object({
  v: z.literal(1),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().min(1).max(64),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
});

export type AuditCheckpoint = z.infer<typeof checkpointSchema>;

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class CheckpointSigner {
  readonly #privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(seed: Buffer) {
    this.#privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.#privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  sign(head: { seq: number; hash: string }, at = new Date()): AuditCheckpoint {
    const unsigned = { v: 1 as const, seq: head.seq, hash: head.hash, at: at.toISOString(), keyId: this.keyId };
    return { ...unsigned, signature: sign(null, message(unsigned), this.#privateKey).toString('base64url') };
  }

  /** The public key as PEM (logged at start so auditors can pin it; `audit verify --public-key`). */
  publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** The checkpoint when `value` is one, well-formed; undefined otherwise. */
export function asCheckpoint(value: unknown): AuditCheckpoint | undefined {
  const parsed = checkpointSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Whether the signature is the holder of `publicKey`'s, over exactly these fields. */
export function checkpointSignatureValid(checkpoint: AuditCheckpoint, publicKey: KeyObject): boolean {
  if (checkpoint.keyId !== keyIdOf(publicKey)) return false;
  try {
    return verify(null, message(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * Checkpoints in NDJSON text: bare checkpoints (the data dir file), `audit.checkpoint` events
 * (an export or the SIEM stream) or log lines with a `checkpoint` field. Other lines are skipped.
 */
export function parseCheckpointLines(text: string): AuditCheckpoint[] {
  const found: AuditCheckpoint[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const record = value as { action?: unknown; details?: unknown; checkpoint?: unknown };
    const candidate = record.action === CHECKPOINT_ACTION ? record.details : record.checkpoint !== undefined ? record.checkpoint : value;
    const checkpoint = asCheckpoint(candidate);
    if (checkpoint) found.push(checkpoint);
  }
  return found;
}

function message(c: { seq: number; hash: string; at: string }): Buffer {
  return Buffer.from(`gatehouse-audit-checkpoint/v1\n${c.seq}\n${c.hash}\n${c.at}`, 'utf8');
}
