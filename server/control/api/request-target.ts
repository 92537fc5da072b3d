/**
 * The edge of every request: the request target (path and query) and JSON text are checked
 * here once, before any route sees them. A path that cannot be parsed, a malformed `%` escape,
 * bytes that are not UTF-8 and NUL characters (which PostgreSQL text cannot hold) are answered
 * 400 `GATEHOUSE_ERR_INVALID_INPUT`, naming where they were found.
 */
import { InvalidInputError } from './errors.ts';

export interface RequestTarget {
  /** The path as sent (still percent-encoded; the router decodes parameters). */
  pathname: string;
  /** Decoded query parameters; the last of repeated names wins. */
  query: Record<string, string>;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // ignoreBOM: keep a BOM as text, never drop it silently
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/** NUL, or a UTF-16 surrogate without its pair (not encodable as UTF-8). */
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parses `req.url` (origin form: `/path?query`). Never throws anything but InvalidInputError. */
export function parseRequestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? '/';
  const queryStart = target.indexOf('?');
  const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
  if (!pathname.startsWith('/') || !PRINTABLE_ASCII.test(pathname)) {
    throw new InvalidInputError('the request path must start with "/" and contain only printable ASCII (percent-encode the rest)', 'path');
  }
  for (const segment of pathname.split('/')) decodeComponent(segment, 'path', 'path');
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  if (queryStart !== -1) {
    for (const pair of target.slice(queryStart + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decodeComponent((eq === -1 ? pair : pair.slice(0, eq)).replaceAll('+', ' '), 'query');
      const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1).replaceAll('+', ' '), `query.${name}`, name);
      query[name] = value;
    }
  }
  return { pathname, query: { ...query } };
}

/**
 * Percent-decodes one path segment or query part: malformed escapes, bytes that are not UTF-8
 * and NUL are refused. `req.url` holds the raw bytes as latin1 characters, so they are read back
 * that way.
 */
function decodeComponent(text: string, where: string, field?: string): string {
  if (MALFORMED_ESCAPE.test(text)) throw new InvalidInputError(`${where}: "%" must start a two-digit hex escape`, field);
  const bytes = Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
  let decoded: string;
  try {
    decoded = STRICT_UTF8.decode(bytes);
  } catch {
    throw new InvalidInputError(`${where}: not valid UTF-8`, field);
  }
  if (decoded.includes('\u0000')) throw new InvalidInputError(`${where}: must not contain a NUL character`, field);
  return decoded;
}

/** Decodes a request body as strict UTF-8. */
export function decodeBodyText(bytes: Buffer): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new InvalidInputError('the request body is not valid UTF-8', 'body');
  }
}

/**
 * Refuses a parsed JSON value holding a string (or object key) with NUL or an unpaired
 * surrogate anywhere in it. Iterative, so deeply nested input cannot exhaust the stack.
 */
export function assertCleanJsonText(value: unknown): void {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop() as { value: unknown; path: string };
    if (typeof v === 'string') {
      if (BAD_TEXT.test(v)) throw badText(path);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: join(path, String(i)) }));
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        if (BAD_TEXT.test(key)) throw badText(path);
        stack.push({ value: item, path: join(path, key) });
      }
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function badText(path: string): InvalidInputError {
  const where = path === '' ? 'body' : `body.${path}`;
  return new InvalidInputError(`${where}: text must not contain NUL characters or unpaired surrogates`, path === '' ? undefined : path);
}
