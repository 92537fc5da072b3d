import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

/**
 * Races `work` against a timer. A locked keyring on a desktop can wait forever for an
 * unlock prompt; the caller gets a TIMEOUT error instead and the pending call is abandoned.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatehouseError(ErrorCodes.TIMEOUT, `${what} did not answer within ${ms} ms`)),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
