import type { Readable, Writable } from 'node:stream';

/** Where a command reads and writes; the process's streams by default, others in tests. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** Aborting it ends a long-running command (`db access`) as Ctrl+C would. */
  signal?: AbortSignal;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export function out(io: CliIo, line: string): void {
  io.stdout.write(`${line}\n`);
}

export function err(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}
