/**
 * Issue 8 item 3: an error's typed `details` survive every boundary unchanged: the control
 * plane's JSON answer (server/control/api/errors.ts), the desktop's HTTP client
 * (main/core/api/api-errors.ts), the IPC envelope (main/ipc/handlers.ts → client.ts), and what
 * the renderer and the CLI say with them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GatehouseError, InvalidInputError, serializeError, type ErrorDetails } from '../../proxy-core/src/errors.ts';
import { errorResponse } from '../../server/control/api/errors.ts';
import { errorFromResponse } from '../core/api/api-errors.ts';
import { portInUse } from '../core/access/access-session.ts';
import { toUiError } from '../../renderer/src/lib/errors.ts';
import { createIpcClient, IpcError } from './client.ts';
import { defineHandlers, type IpcEventSource, type IpcServices } from './handlers.ts';
import type { Envelope } from './contract.ts';

/** The control plane's error answer, over a real socket. */
let server: Server;
let url: string;
let answer: unknown;
beforeAll(async () => {
  server = createServer((_req, res) => {
    const reply = errorResponse(answer);
    res.statusCode = reply.status;
    res.setHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function overHttp(err: GatehouseError): Promise<{ body: Record<string, unknown>; error: GatehouseError }> {
  answer = err;
  const res = await fetch(url);
  const text = await res.text();
  return { body: JSON.parse(text) as Record<string, unknown>, error: errorFromResponse(url, res.status, text, res.headers.get('retry-after') ?? undefined) };
}

/** The main process answers a channel by throwing `err`; the renderer client gets it after a JSON trip (the test bridge's WebSocket). */
async function overIpc(err: Error): Promise<IpcError> {
  const services = new Proxy({} as IpcServices & IpcEventSource, {
    get: (_target, name) => (name === 'subscribe' ? () => () => undefined : () => Promise.reject(err)),
  });
  const handlers = defineHandlers(services);
  const client = createIpcClient({
    invoke: async (channel, args) => JSON.parse(JSON.stringify(await handlers.invoke(channel, args))) as Envelope<unknown>,
    subscribe: () => () => undefined,
  });
  return client['auth.current']().then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as IpcError,
  );
}

describe('issue 8 item 3: error details round-trip through the API JSON and IPC', () => {
  it('MFA_REQUIRED: the challenge goes out next to error, comes back as details, and crosses IPC unchanged', async () => {
    const details: ErrorDetails = { challenge: { methods: ['totp', 'email'], emailSendPath: '/api/v1/me/mfa/email/send' } };
    const { body, error } = await overHttp(new GatehouseError(ErrorCodes.MFA_REQUIRED, 'the account "admin" requires MFA', { details }));
    expect(body).toEqual({ challenge: details.challenge, error: { code: ErrorCodes.MFA_REQUIRED, message: 'the account "admin" requires MFA' } });
    expect(error).toMatchObject({ code: ErrorCodes.MFA_REQUIRED, status: 403, details: { challenge: { methods: ['totp', 'email'] } } });
    const ipc = await overIpc(error);
    expect(ipc).toBeInstanceOf(IpcError);
    expect(ipc).toMatchObject({ code: ErrorCodes.MFA_REQUIRED, message: 'the account "admin" requires MFA', details: error.details });
  });

  it('APPROVAL_REQUIRED: the approvals needed travel as details.approval', async () => {
    const { body, error } = await overHttp(
      new GatehouseError(ErrorCodes.APPROVAL_REQUIRED, 'approval needed', {
        details: { approval: { requiredApprovals: 2, requestId: 'r-1', status: 'pending' } },
      }),
    );
    expect(body.approval).toEqual({ requiredApprovals: 2, requestId: 'r-1', status: 'pending' });
    expect(error.details).toEqual({ approval: { requiredApprovals: 2 } });
    expect((await overIpc(error)).details).toEqual({ approval: { requiredApprovals: 2 } });
  });

  it('LOCKED_OUT: retryAfterSeconds is in the body and the Retry-After header; the app and the CLI say when to try again', async () => {
    const { body, error } = await overHttp(new GatehouseError(ErrorCodes.LOCKED_OUT, 'too many failed sign-ins', { details: { retryAfterSeconds: 840 } }));
    expect(body.retryAfterSeconds).toBe(840);
    expect(error.details).toEqual({ retryAfterSeconds: 840 });
    const ipc = await overIpc(error);
    expect(toUiError(ipc)).toEqual({
      code: ErrorCodes.LOCKED_OUT,
      message: 'Too many failed sign-ins. Try again in 14 minutes.',
      details: { retryAfterSeconds: 840 },
    });
  });

  it('INVALID_INPUT: the field stays inside error, as before', async () => {
    const { body, error } = await overHttp(new InvalidInputError('duration: must be a whole number of seconds, at least 1', 'duration'));
    expect(body).toEqual({ error: { code: ErrorCodes.INVALID_INPUT, message: 'duration: must be a whole number of seconds, at least 1', field: 'duration' } });
    expect(error.code).toBe(ErrorCodes.INVALID_INPUT);
  });

  it('an error without details serializes as { name, code, message } only', async () => {
    const { body } = await overHttp(new GatehouseError(ErrorCodes.FORBIDDEN, 'not yours'));
    expect(body).toEqual({ error: { code: ErrorCodes.FORBIDDEN, message: 'not yours' } });
    expect(serializeError(new GatehouseError(ErrorCodes.FORBIDDEN, 'not yours'))).toEqual({
      name: 'GatehouseError',
      code: ErrorCodes.FORBIDDEN,
      message: 'not yours',
    });
    const ipc = await overIpc(new GatehouseError(ErrorCodes.FORBIDDEN, 'not yours'));
    expect(ipc.details).toBeUndefined();
  });

  it('PORT_IN_USE: the core carries the port, not CLI words; the app and the CLI each say how to pick another', async () => {
    const err = portInUse(15432);
    expect(err).toMatchObject({ code: ErrorCodes.PORT_IN_USE, message: 'port 15432 is in use', details: { port: 15432 } });
    const ipc = await overIpc(err);
    expect(ipc.details).toEqual({ port: 15432 });
    expect(toUiError(ipc).message).toContain('Enter another number in “Local port”');
    expect(toUiError(ipc).message).not.toContain('--port');
  });
});
