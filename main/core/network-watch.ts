import { EventEmitter } from 'node:events';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface NetworkWatchOptions {
  /** How often to look (default 5 s). */
  intervalMs?: number;
  /** The interfaces; os.networkInterfaces by default. */
  read?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * Emits 'change' when this machine's external addresses change (Wi-Fi to cable, VPN up or
 * down, a new DHCP lease): the moment to re-check tunnels before a query fails.
 */
export class NetworkWatch extends EventEmitter<{ change: [{ before: string[]; after: string[] }] }> {
  readonly #read: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly #timer: NodeJS.Timeout;
  #last: string[];

  constructor(opts: NetworkWatchOptions = {}) {
    super();
    this.#read = opts.read ?? networkInterfaces;
    this.#last = this.addresses();
    this.#timer = setInterval(() => this.check(), opts.intervalMs ?? 5_000);
    this.#timer.unref();
  }

  /** The external addresses now, sorted. */
  addresses(): string[] {
    return Object.values(this.#read())
      .flatMap((list) => (list ?? []).filter((i) => !i.internal).map((i) => i.address))
      .sort();
  }

  /** Looks now; emits 'change' if the addresses differ from the last look. */
  check(): void {
    const now = this.addresses();
    if (now.join(',') === this.#last.join(',')) return;
    const before = this.#last;
    this.#last = now;
    this.emit('change', { before, after: now });
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
