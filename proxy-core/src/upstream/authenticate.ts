import type { Socket } from 'node:net';
import { ErrorCodes } from '../errors.ts';
import { BackendCode } from '../protocol/constants.ts';
import { parseAuthentication } from '../protocol/backend/authentication.ts';
import { createPasswordMessage } from '../protocol/frontend/password-message.ts';
import { createSASLInitialResponse } from '../protocol/frontend/sasl-initial-response.ts';
import { createSASLResponse } from '../protocol/frontend/sasl-response.ts';
import { INVALID_AUTHORIZATION, PROTOCOL_VIOLATION } from '../protocol/sqlstate.ts';
import type { Message } from '../protocol/framing.ts';
import { md5PasswordResponse } from '../auth/md5.ts';
import { ScramClient, SCRAM_SHA_256, SCRAM_SHA_256_PLUS } from '../auth/scram.ts';
import { tlsServerEndPoint } from '../auth/channel-binding.ts';
import { assertPasswordMethodAllowed } from './auth-policy.ts';
import type { MessageReader } from './message-reader.ts';
import type { UpstreamAuthMethods } from './types.ts';
import { UpstreamError } from './upstream-error.ts';

export interface AuthContext {
  socket: Socket;
  reader: MessageReader;
  username: string;
  password: string;
  /** Server certificate DER when on TLS. */
  peerCertificate: Buffer | undefined;
  tls: boolean;
  /** TLS verified the server's chain and host name (cleartext needs it). */
  tlsVerified: boolean;
  /** Weaker methods this resource allows; SCRAM only when absent. */
  authMethods: UpstreamAuthMethods | undefined;
  where: string;
  maxScramIterations?: number;
}

export interface AuthResult {
  /** NegotiateProtocolVersion, when the server sent one, to forward to the client. */
  negotiate: Message | undefined;
  /** The AuthenticationOk message. */
  ok: Message;
  method: 'trust' | 'cleartext' | 'md5' | typeof SCRAM_SHA_256 | typeof SCRAM_SHA_256_PLUS;
}

/** Answers the server's authentication requests with the account's credentials. */
export async function authenticate(ctx: AuthContext): Promise<AuthResult> {
  let negotiate: Message | undefined;
  let method: AuthResult['method'] = 'trust';
  let scram: ScramClient | undefined;
  let scramDone = false;
  for (;;) {
    const msg = await ctx.reader.next();
    if (msg.code === BackendCode.ErrorResponse) throw UpstreamError.fromServer(msg.payload);
    if (msg.code === BackendCode.NegotiateProtocolVersion && !negotiate) {
      negotiate = msg;
      continue;
    }
    if (msg.code !== BackendCode.Authentication) throw unexpected(ctx, msg, 'an authentication request');
    const req = parseAuthentication(msg.payload);
    switch (req.type) {
      case 'ok':
        if (scram && !scramDone) throw protocolError(ctx, 'the server skipped SCRAM server verification');
        return { negotiate, ok: msg, method };
      case 'cleartext':
        assertPasswordMethodAllowed('cleartext', ctx);
        method = 'cleartext';
        ctx.socket.write(createPasswordMessage(ctx.password));
        break;
      case 'md5':
        assertPasswordMethodAllowed('md5', ctx);
        method = 'md5';
        ctx.socket.write(createPasswordMessage(md5PasswordResponse(ctx.username, ctx.password, req.salt)));
        break;
      case 'sasl': {
        if (scram) throw protocolError(ctx, 'the server restarted SASL authentication');
        scram = startScram(ctx, req.mechanisms);
        method = scram.mechanism;
        ctx.socket.write(createSASLInitialResponse(scram.mechanism, scram.clientFirst()));
        break;
      }
      case 'sasl-continue':
        if (!scram) throw protocolError(ctx, 'SASLContinue without SASL');
        ctx.socket.write(createSASLResponse(await scram.clientFinal(req.data)));
        break;
      case 'sasl-final':
        if (!scram) throw protocolError(ctx, 'SASLFinal without SASL');
        scram.verifyServerFinal(req.data);
        scramDone = true;
        break;
      case 'other':
        throw new UpstreamError(
          ErrorCodes.UNSUPPORTED_AUTH,
          `the database server at ${ctx.where} asks for ${req.name} authentication, which the gateway does not support`,
          {
            sqlstate: INVALID_AUTHORIZATION,
            hint: 'Configure pg_hba.conf for the gateway host to use scram-sha-256 (recommended), md5 or password.',
          },
        );
    }
  }
}

function startScram(ctx: AuthContext, mechanisms: string[]): ScramClient {
  const base = { password: ctx.password, tls: ctx.tls, maxIterations: ctx.maxScramIterations };
  if (ctx.tls && ctx.peerCertificate && mechanisms.includes(SCRAM_SHA_256_PLUS)) {
    return new ScramClient({ ...base, mechanism: SCRAM_SHA_256_PLUS, channelBindingData: tlsServerEndPoint(ctx.peerCertificate) });
  }
  if (mechanisms.includes(SCRAM_SHA_256)) return new ScramClient({ ...base, mechanism: SCRAM_SHA_256 });
  throw new UpstreamError(
    ErrorCodes.UNSUPPORTED_AUTH,
    `the database server at ${ctx.where} offers SASL mechanisms ${mechanisms.join(', ') || '(none)'}, none of which the gateway supports`,
    { sqlstate: INVALID_AUTHORIZATION, hint: 'Use scram-sha-256 for the gateway in pg_hba.conf.' },
  );
}

function protocolError(ctx: AuthContext, why: string): UpstreamError {
  return new UpstreamError(ErrorCodes.PROTOCOL, `protocol error from the database server at ${ctx.where}: ${why}`, {
    sqlstate: PROTOCOL_VIOLATION,
  });
}

export function unexpected(ctx: { where: string }, msg: Message, expected: string): UpstreamError {
  return new UpstreamError(
    ErrorCodes.PROTOCOL,
    `protocol error from the database server at ${ctx.where}: expected ${expected}, got message type '${String.fromCharCode(msg.code)}'`,
    { sqlstate: PROTOCOL_VIOLATION },
  );
}
