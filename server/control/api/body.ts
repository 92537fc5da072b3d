/**
 * Reads a JSON request body: at most `limit` bytes, `application/json` only, strict UTF-8, and
 * no string holding NUL or an unpaired surrogate (request-target.ts).
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { InvalidInputError } from './errors.ts';
import { assertCleanJsonText, decodeBodyText } from './request-target.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** `undefined` when the request has no body at all. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const hasBody = (declared !== undefined && Number(declared) > 0) || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new GatehouseError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the request body as JSON with Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof GatehouseError) throw err;
    // The client went away mid-body: a caller's error, not the server's.
    throw new InvalidInputError('the request body was cut short', 'body');
  }
  if (size === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decodeBodyText(Buffer.concat(chunks)));
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError('the request body is not valid JSON');
  }
  assertCleanJsonText(value);
  return value;
}

function tooLarge(limit: number): GatehouseError {
  return new GatehouseError(ErrorCodes.PAYLOAD_TOO_LARGE, `the request body is larger than ${limit} bytes`);
}
