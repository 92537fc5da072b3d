import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { isSignInRequired } from '../api/api-errors.ts';
import type { ApiClient } from '../api/api-client.ts';
import type { AccessRequestInfo } from '../api/types.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

/** Polling for a decision: soon at first, then every few seconds. */
export const DECISION_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 5_000 };

export interface AwaitDecisionOptions {
  /** Called with every answer (to show "1 of 2 approvals", say). */
  onUpdate?: (request: AccessRequestInfo) => void;
  /** Stops waiting: the promise rejects with a TIMEOUT GatehouseError saying so. */
  signal?: AbortSignal;
  backoff?: BackoffOptions;
}

/**
 * Polls an access request until it is no longer pending and resolves with it (approved,
 * denied or expired). Network trouble is retried with backoff; a lost sign-in or a refusal
 * rejects. Aborting `signal` rejects with a GatehouseError TIMEOUT saying waiting stopped.
 */
export async function awaitDecision(api: Pick<ApiClient, 'getAccessRequest'>, id: string, opts: AwaitDecisionOptions = {}): Promise<AccessRequestInfo> {
  const backoff = opts.backoff ?? DECISION_BACKOFF;
  let attempt = 0;
  let lastSeen = '';
  for (;;) {
    throwIfAborted(opts.signal, id);
    try {
      const request = await api.getAccessRequest(id);
      const seen = `${request.status}/${request.approvals.length}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        attempt = 0; // something moved: look again soon
        opts.onUpdate?.(request);
      }
      if (request.status !== 'pending') return request;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const transient = code === ErrorCodes.SERVER_UNREACHABLE || code === ErrorCodes.TIMEOUT || code === ErrorCodes.GATEWAY_UNAVAILABLE;
      if (!transient || isSignInRequired(err)) throw err;
    }
    await sleep(backoffDelay(attempt++, backoff), opts.signal);
  }
}

function throwIfAborted(signal: AbortSignal | undefined, id: string): void {
  if (signal?.aborted) throw new GatehouseError(ErrorCodes.TIMEOUT, `stopped waiting for access request ${id}; it stays pending`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
