import { readJsonFile, writeJsonFileAtomic } from './json-file.ts';

/**
 * A small JSON document on disk that several processes (the CLI, the desktop app) may share.
 * Every read goes to the file; every change is read-modify-write, serialised in this process
 * and written atomically, so one process's change does not erase another's.
 */
export class JsonDocument<T> {
  readonly path: string;
  readonly #parse: (raw: unknown) => T;
  readonly #mode: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { path: string; parse: (raw: unknown) => T; mode?: number }) {
    this.path = opts.path;
    this.#parse = opts.parse;
    this.#mode = opts.mode ?? 0o600;
  }

  async read(): Promise<T> {
    return this.#parse(await readJsonFile(this.path));
  }

  /** `change` mutates the document and returns a result; the document is written afterwards. */
  update<R>(change: (doc: T) => R | Promise<R>): Promise<R> {
    const run = this.#queue.then(async () => {
      const doc = await this.read();
      const result = await change(doc);
      await writeJsonFileAtomic(this.path, doc, this.#mode);
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
