/**
 * `GET /api/v1/web-sessions/:id/terminal` (WebSocket). A browser cannot set an Authorization
 * header on a WebSocket, so the access token travels as a subprotocol:
 * `new WebSocket(url, ['gatehouse.terminal.v1', 'bearer.' + accessToken])`; the server
 * answers with `gatehouse.terminal.v1` only (the token is never echoed). No cookie is read, so
 * another site cannot open a terminal with the browser's ambient credentials.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCodes, GatehouseError } from '../../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../../proxy-core/src/log.ts';
import { rawDataToBuffer } from '../../../../proxy-core/src/tunnel/raw-data.ts';
import type { AuthService } from '../../auth/auth-service.ts';
import { refusalFor, rejectUpgrade } from '../../relay/http-reject.ts';
import type { Store } from '../../store/store.ts';
import { terminalMessage } from '../schemas.ts';
import type { WebAccess } from '../web-access.ts';
import { TerminalSession, type ServerMessage } from './terminal-session.ts';

const log = createLogger('web-access.terminal-endpoint');

export const TERMINAL_PATH = /^\/api\/v1\/web-sessions\/([A-Za-z0-9._~-]{1,128})\/terminal$/;
export const TERMINAL_PROTOCOL = 'gatehouse.terminal.v1';
const BEARER_PREFIX = 'bearer.';
/** Largest browser message (a script of up to 1 MB, JSON-escaped). */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A terminal whose browser stops reading is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
export const TerminalCloseCodes = {
  ENDED: 4000,
  INVALID: 4002,
  OVERLOADED: 4008,
} as const;

export class TerminalEndpoint {
  readonly #server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(TERMINAL_PROTOCOL) ? TERMINAL_PROTOCOL : false),
  });
  readonly #auth: AuthService;
  readonly #webAccess: WebAccess;
  readonly #store: Store;
  readonly #open = new Set<WebSocket>();

  constructor(options: { auth: AuthService; webAccess: WebAccess; store: Store }) {
    this.#auth = options.auth;
    this.#webAccess = options.webAccess;
    this.#store = options.store;
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, id: string): Promise<void> {
    let session;
    try {
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!protocols.includes(TERMINAL_PROTOCOL)) throw new GatehouseError(ErrorCodes.INVALID_INPUT, `ask for the WebSocket subprotocol ${TERMINAL_PROTOCOL}`);
      const token = protocols.find((p) => p.startsWith(BEARER_PREFIX))?.slice(BEARER_PREFIX.length);
      const user = await this.#auth.authenticate(token === undefined ? undefined : `Bearer ${token}`);
      session = await this.#webAccess.get(user, id);
    } catch (err) {
      rejectUpgrade(socket, refusalFor(err));
      return;
    }
    const web = session;
    this.#server.handleUpgrade(req, socket, head, (ws) => this.#serve(ws, web));
  }

  close(): void {
    for (const ws of this.#open) ws.terminate();
    this.#server.close();
  }

  #serve(ws: WebSocket, session: Awaited<ReturnType<WebAccess['get']>>): void {
    this.#open.add(ws);
    const send = (message: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.close(TerminalCloseCodes.OVERLOADED, 'the browser is not reading results');
        return;
      }
      ws.send(JSON.stringify(message));
    };
    const { record } = session;
    const terminal = new TerminalSession({
      session,
      send,
      recordHistory: (sql) =>
        void this.#store.webQueryHistory
          .add(
            session.user.id,
            {
              projectId: record.projectId,
              resourceId: record.resourceId,
              accountId: record.accountId,
              sql,
            },
            new Date(),
          )
          .catch((err: unknown) => log.warn({ err }, 'could not store the query history')),
    });
    const stopListening = session.onEnd((end) => {
      send({ type: 'ended', reason: end.reason, message: end.message });
      ws.close(TerminalCloseCodes.ENDED, end.reason);
    });
    const pending: Buffer[] = [];
    let ready = false;
    const onMessage = (buf: Buffer) => {
      let parsed;
      try {
        parsed = terminalMessage.safeParse(JSON.parse(buf.toString('utf8')));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        send({
          type: 'error',
          code: '08P01',
          message: 'not a terminal message: send {type: "run"|"fetch"|"cancel"|"ping", …} as JSON (docs/web-access.md)',
        });
        return;
      }
      terminal.handle(parsed.data);
    };
    ws.on('message', (data, isBinary) => {
      const buf = rawDataToBuffer(data);
      if (isBinary)
        return send({
          type: 'error',
          code: '08P01',
          message: 'the terminal takes JSON text messages',
        });
      if (ready) onMessage(buf);
      else pending.push(buf);
    });
    ws.on('error', (err) => log.info({ err: err.message }, 'terminal WebSocket error'));
    ws.once('close', () => {
      this.#open.delete(ws);
      stopListening();
      void terminal.close();
    });
    terminal.start().then(
      () => {
        ready = true;
        for (const buf of pending.splice(0)) onMessage(buf);
      },
      (err: unknown) => {
        send({
          type: 'error',
          code: '08006',
          message: `could not open a database connection for the terminal: ${(err as Error).message}`,
        });
        ws.close(TerminalCloseCodes.ENDED, 'no database connection');
      },
    );
  }
}
