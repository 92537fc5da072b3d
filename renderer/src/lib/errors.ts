import { isGatehouseErrorLike } from '../../../proxy-core/src/errors.ts';

export interface UiError { code: string; message: string }

/** What a person reads when something fails (the server's message says what to do). */
export function toUiError(err: unknown): UiError {
  if (isGatehouseErrorLike(err)) return { code: err.code, message: friendly(err.code, err.message) };
  return { code: 'GATEHOUSE_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function friendly(code: string, message: string): string {
  switch (code) {
    case 'GATEHOUSE_ERR_INVALID_CREDENTIALS': return 'Wrong email or password.';
    case 'GATEHOUSE_ERR_PORT_IN_USE': return `${message} Pick another port, or stop what uses it.`;
    default: return message.charAt(0).toUpperCase() + message.slice(1);
  }
}
