import { isGatehouseErrorLike } from '../../../proxy-core/src/errors.ts';
import type { ErrorDetails } from '../../../main/ipc/contract.ts';

export interface UiError {
  code: string;
  message: string;
  details?: ErrorDetails;
}

/** What a person reads when something fails (the server's message says what to do). */
export function toUiError(err: unknown): UiError {
  if (isGatehouseErrorLike(err)) {
    const details = (err as { details?: ErrorDetails }).details;
    return { code: err.code, message: friendly(err.code, err.message, details), ...(details ? { details } : {}) };
  }
  return { code: 'GATEHOUSE_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function friendly(code: string, message: string, details: ErrorDetails | undefined): string {
  switch (code) {
    case 'GATEHOUSE_ERR_INVALID_CREDENTIALS':
      return 'Wrong email or password.';
    case 'GATEHOUSE_ERR_PORT_IN_USE':
      return portInUse(message, details?.port);
    case 'GATEHOUSE_ERR_LOCKED_OUT':
      return `${sentence(message)}${retryText(details?.retryAfterSeconds)}`;
    case 'GATEHOUSE_ERR_POLICY_DENIED':
      return `${sentence(message)} Ask an administrator for a policy that grants this account.`;
    default:
      return sentence(message);
  }
}

/** The core names the port (`details.port`): say how to pick another in the app's words. */
function portInUse(message: string, port: number | undefined): string {
  if (port === undefined) return `${sentence(message)} Enter another number in “Local port”, or stop the program using it.`;
  return `Port ${port} is already in use by another program. Enter another number in “Local port” (it is kept for next time), or stop the program using port ${port}.`;
}

function sentence(message: string): string {
  const m = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(m) ? m : `${m}.`;
}

/** " Try again in 14 minutes." */
export function retryText(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 90) return ` Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
  const minutes = Math.ceil(seconds / 60);
  return ` Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
