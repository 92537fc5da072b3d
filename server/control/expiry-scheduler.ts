/** Periodically marks sessions past `expires_at` as expired (and ends them at the relay). */
import { createLogger } from '../../proxy-core/src/log.ts';

const log = createLogger('expiry-scheduler');

export class ExpiryScheduler {
  readonly #sweep: () => Promise<unknown>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(sweep: () => Promise<unknown>, intervalMs: number) {
    this.#sweep = sweep;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One sweep; overlapping calls share the sweep in progress. */
  runOnce(): Promise<unknown> {
    this.#running ??= this.#sweep()
      .catch((err: unknown) => log.error({ err }, 'expiry sweep failed'))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
