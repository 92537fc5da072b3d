/** Audit details never carry secret values: keys that name one are replaced, at any depth. */
const SECRET_KEY = /password|secret|token|privatekey|^code$|recoverycode|otp/i;
const MAX_DEPTH = 6;

export function redactDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (details === undefined) return {};
  // A JSON round trip first: what is hashed is exactly what jsonb stores and gives back.
  return redact(JSON.parse(JSON.stringify(details)) as Record<string, unknown>, 0) as Record<string, unknown>;
}

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? value.replace(/\u0000/g, '') : value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
}
