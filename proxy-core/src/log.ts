import { pino, type Logger } from 'pino';

/**
 * Named loggers. Library code logs through these, never through `console`.
 * Logs go to stderr (stdout is for command output such as `--json`).
 * Level from GATEHOUSE_LOG_LEVEL (default 'info'; tests default to 'silent').
 * Secrets never go into a log line: the redact list below is a last line of defence.
 */
const root: Logger = pino(
  {
    level: process.env.GATEHOUSE_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    base: undefined,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'accessToken', 'refreshToken', '*.accessToken', '*.refreshToken', 'privateKey', '*.privateKey'],
      censor: '[redacted]',
    },
  },
  pino.destination({ fd: 2, sync: false }),
);

export type { Logger };

export function createLogger(name: string): Logger {
  return root.child({ name });
}
