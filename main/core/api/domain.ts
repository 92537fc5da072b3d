import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';

/**
 * The canonical form of a control plane address: its origin (`https://host[:port]`).
 * A bare host gets `https://`; paths, queries and trailing slashes are dropped.
 */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, `"${input}" is not a valid domain; use e.g. https://gatehouse.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, `"${input}" must be an http:// or https:// address`);
  }
  return url.origin;
}
