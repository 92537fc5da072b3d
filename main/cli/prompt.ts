import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliIo } from './io.ts';

/** Asks for one line on the terminal; with `hidden`, typed characters are not echoed. */
export function prompt(io: CliIo, question: string, opts: { hidden?: boolean } = {}): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (!muted) io.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: Boolean(io.stdin.isTTY) });
  return new Promise<string>((resolve, reject) => {
    rl.question(question, (answer) => {
      resolve(answer); // before close(): its 'close' event must not reject an answered prompt
      rl.close();
      if (opts.hidden) io.stderr.write('\n');
    });
    muted = opts.hidden === true;
    rl.once('SIGINT', () => {
      rl.close();
      reject(new Error('cancelled'));
    });
    // input ended before an answer (stdin closed): fail instead of waiting forever
    rl.once('close', () => reject(new Error('no answer: the input ended')));
  });
}
