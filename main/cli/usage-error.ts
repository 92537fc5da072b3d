/** A mistake in the command line: printed with a hint, exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
