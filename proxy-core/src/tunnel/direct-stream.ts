/**
 * Direct streams (docs/architecture.md, "Direct streams"): one TCP connection per PostgreSQL
 * connection through the relay, next to the tunnel's WebSocket, so that the end-to-end TLS
 * between the local proxy and the gateway runs natively on a real socket at both ends and the
 * relay splices two sockets without framing. Both sides open theirs with an HTTP/1.1 upgrade
 * to `gatehouse-stream`:
 *
 * - the client: `GET /api/v1/sessions/<id>/stream` with the tunnel's stream key (a secret the
 *   relay gave it over the tunnel) and its open meta;
 * - the gateway, asked over its link (`dial`): `GET /api/v1/gateways/streams/<token>` with the
 *   single-use token of that request.
 *
 * The relay answers both with 101 once they are paired. A refusal is an HTTP error with the
 * usual JSON body `{ error: { code, message } }`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { ErrorCodes, GatehouseError, isGatehouseErrorLike, type ErrorCode } from '../errors.ts';

export const DIRECT_STREAM_PROTOCOL = 'gatehouse-stream';
/** The client's stream key (from the tunnel's `direct-streams` control message). */
export const STREAM_KEY_HEADER = 'gatehouse-stream-key';
/** The client's open meta (StreamOpenMeta), base64url JSON. */
export const STREAM_META_HEADER = 'gatehouse-stream-meta';
/** Sent by a gateway on its link upgrade: the features it has (`direct-streams`). */
export const GATEWAY_FEATURES_HEADER = 'gatehouse-gateway-features';
export const DIRECT_STREAMS_FEATURE = 'direct-streams';

export const sessionStreamPath = (sessionId: string): string => `/api/v1/sessions/${encodeURIComponent(sessionId)}/stream`;
export const gatewayStreamPath = (token: string): string => `/api/v1/gateways/streams/${encodeURIComponent(token)}`;
export const SESSION_STREAM_PATH = /^\/api\/v1\/sessions\/([A-Za-z0-9._~-]{1,128})\/stream$/;
export const GATEWAY_STREAM_PATH = /^\/api\/v1\/gateways\/streams\/([A-Za-z0-9_-]{16,128})$/;

const MAX_ERROR_BODY = 16 * 1024;

export function encodeStreamMeta(meta: object): string {
  return Buffer.from(JSON.stringify(meta)).toString('base64url');
}

/** The meta header's JSON as bytes (the receiver validates it), or undefined when absent or not base64url. */
export function decodeStreamMeta(value: string | string[] | undefined): Buffer | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url');
}

export interface DialOptions {
  headers: Record<string, string>;
  /** No answer (101 or a refusal) by then rejects with TIMEOUT. */
  timeoutMs: number;
  /** The error for a refusal (status and body text); default: the body's `{ error: { code, message } }`. */
  refusal?: (status: number, bodyText: string) => Error;
}

/**
 * Opens `url` with an upgrade to `gatehouse-stream` on a connection of its own; resolves with
 * the raw socket once the server switched protocols (no-delay, flowing nothing yet). A refusal
 * rejects with the server's error (its code and message); a network failure with its cause.
 */
export function dialDirectStream(url: string, opts: DialOptions): Promise<Socket> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'GET',
      agent: false,
      headers: { ...opts.headers, connection: 'Upgrade', upgrade: DIRECT_STREAM_PROTOCOL },
    });
    let settled = false;
    const settle = (err: Error | undefined, socket?: Socket) => {
      if (settled) {
        socket?.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(socket!);
    };
    const timer = setTimeout(
      () => settle(new GatehouseError(ErrorCodes.TIMEOUT, `${target.host} did not answer a direct stream request within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.headers.upgrade?.toLowerCase() !== DIRECT_STREAM_PROTOCOL) {
        socket.destroy();
        return settle(new GatehouseError(ErrorCodes.PROTOCOL, `${target.host} switched to an unexpected protocol`));
      }
      socket.setNoDelay(true);
      if (head.length > 0) socket.unshift(head);
      settle(undefined, socket);
    });
    req.once('response', (res: IncomingMessage) => {
      readBody(res).then(
        (body) => settle((opts.refusal ?? refusalFromBody)(res.statusCode ?? 0, body)),
        (err: Error) => settle(err),
      );
    });
    req.once('error', (err) => settle(err));
    req.end();
  });
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_ERROR_BODY) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function refusalFromBody(status: number, bodyText: string): GatehouseError {
  try {
    const body = JSON.parse(bodyText) as { error?: unknown };
    if (isGatehouseErrorLike(body.error)) return new GatehouseError(body.error.code as ErrorCode, body.error.message);
  } catch {
    // not JSON: something in between answered
  }
  return new GatehouseError(ErrorCodes.PROTOCOL, `unexpected HTTP ${status} to a direct stream request`);
}
