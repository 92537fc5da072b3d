/**
 * Calls `fn` at most once per `intervalMs`: the first request runs at once, requests within
 * the interval collapse into one trailing call. `flush()` runs a pending call now only if the
 * interval allows it, else resolves when the trailing call has run.
 */
export class Throttle {
  readonly #fn: () => void;
  readonly #intervalMs: number;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  constructor(fn: () => void, intervalMs: number) {
    this.#fn = fn;
    this.#intervalMs = intervalMs;
  }

  request(): void {
    if (this.#timer) return;
    const wait = this.#last + this.#intervalMs - Date.now();
    if (wait <= 0) this.#run();
    else this.#timer = setTimeout(() => this.#run(), wait);
  }

  /** Requests a call and resolves once it has happened. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.request();
    });
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiters.splice(0)) w();
  }

  #run(): void {
    this.#timer = undefined;
    this.#last = Date.now();
    this.#fn();
    for (const w of this.#waiters.splice(0)) w();
  }
}
