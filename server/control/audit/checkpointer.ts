/**
 * Emits signed checkpoints of the audit chain (audit/checkpoint.ts) every `intervalMs` and once
 * more at `close()` (shutdown): each goes into the chain as an `audit.checkpoint` event (so the
 * export and the SIEM stream carry it), into the log, and into `<dataDir>/audit-checkpoints.ndjson`,
 * a copy outside the database that `gatehouse-server audit verify` checks the chain against.
 * Nothing is emitted while the chain has not moved since the last checkpoint.
 */
import { appendFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../../proxy-core/src/log.ts';
import type { Audit } from '../audit.ts';
import { CHECKPOINT_FILE, type AuditCheckpoint, type CheckpointSigner } from './checkpoint.ts';

const log = createLogger('audit-checkpoint');

export class AuditCheckpointer {
  readonly #audit: Audit;
  readonly #signer: CheckpointSigner;
  readonly #file: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(options: { audit: Audit; signer: CheckpointSigner; dataDir: string; intervalMs: number }) {
    this.#audit = options.audit;
    this.#signer = options.signer;
    this.#file = join(options.dataDir, CHECKPOINT_FILE);
    this.#intervalMs = options.intervalMs;
  }

  start(): void {
    log.info({ keyId: this.#signer.keyId, publicKey: this.#signer.publicKeyPem(), intervalMs: this.#intervalMs }, 'audit checkpoints signed with this key');
    this.#timer = setInterval(() => void this.checkpoint(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One checkpoint now (one at a time); undefined when the chain has not moved. Never throws. */
  checkpoint(): Promise<AuditCheckpoint | undefined> {
    const next = this.#running.then(() => this.#emit());
    this.#running = next;
    return next;
  }

  /** Stops the schedule and emits a last checkpoint (idempotent). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#timer);
      await this.checkpoint();
    })();
    return this.#closed;
  }

  async #emit(): Promise<AuditCheckpoint | undefined> {
    try {
      const checkpoint = await this.#audit.checkpoint(this.#signer);
      if (!checkpoint) return undefined;
      log.info({ checkpoint }, 'audit checkpoint');
      await appendFile(this.#file, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
      await chmod(this.#file, 0o600);
      return checkpoint;
    } catch (err) {
      log.error({ err }, 'audit checkpoint failed; the next one will cover these events');
      return undefined;
    }
  }
}
