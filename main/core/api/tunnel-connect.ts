import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { tunnelClientOptions } from '../../../proxy-core/src/tunnel/ws-client-options.ts';
import { errorFromNetwork, errorFromResponse } from './api-errors.ts';

const MAX_ERROR_BODY = 64 * 1024;

/**
 * Opens a WebSocket with a bearer token and resolves once it is open, **paused**: call
 * `ws.resume()` after attaching listeners so no early message is lost. A refused upgrade
 * rejects with the server's error (code and message from its JSON body); a network
 * failure with SERVER_UNREACHABLE; no answer within `timeoutMs` with TIMEOUT.
 */
export function connectWebSocket(opts: { url: string; domain: string; accessToken: string; timeoutMs: number }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.url, {
      ...tunnelClientOptions(opts.url),
      headers: { authorization: `Bearer ${opts.accessToken}` },
      handshakeTimeout: opts.timeoutMs,
    });
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      ws.off('open', onOpen);
      ws.off('unexpected-response', onRefused);
      if (err) {
        ws.on('error', () => undefined); // a late error from the aborted handshake
        ws.terminate();
        reject(err);
      } else {
        ws.off('error', onError);
        resolve(ws);
      }
    };
    const onOpen = () => {
      // Messages sent right after the upgrade would otherwise be emitted before the caller
      // (who resumes after attaching its listeners) has had a chance to listen.
      ws.pause();
      settle(undefined);
    };
    const onError = (err: Error) => {
      const timedOut = /timed out/i.test(err.message);
      settle(
        timedOut
          ? new GatehouseError(ErrorCodes.TIMEOUT, `the Gatehouse server at ${opts.domain} did not open the tunnel in time`, { cause: err })
          : errorFromNetwork(opts.domain, err),
      );
    };
    const onRefused = (req: { destroy(): void }, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ERROR_BODY) chunks.push(chunk);
      });
      const done = () => {
        settle(errorFromResponse(opts.domain, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        req.destroy();
      };
      res.once('end', done);
      res.once('error', done);
      res.once('close', done);
    };
    ws.once('open', onOpen);
    ws.on('error', onError);
    ws.once('unexpected-response', onRefused);
  });
}
