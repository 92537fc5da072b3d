/**
 * Everything a client says before its StartupMessage: GSSENCRequest ('N', keep reading),
 * SSLRequest ('S' and TLS on the local certificate, or 'N'), a direct TLS ClientHello,
 * CancelRequest. Returns the socket to speak PG on (TLS or plain) and the final packet.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { parseStartupPacket, type StartupPacket } from '../protocol/startup.ts';
import { localTlsContext } from './local-certificate.ts';
import { readPacket } from '../protocol/read-packet.ts';

const SSL_YES = Buffer.from('S');
const NO = Buffer.from('N');
/** ALPN of PostgreSQL's direct SSL (PG 17+). */
const PG_ALPN = 'postgresql';

export type Negotiated =
  | { kind: 'startup'; socket: Duplex; packet: Buffer; startup: Extract<StartupPacket, { kind: 'startup' }>; rest: Buffer; tls: boolean }
  | { kind: 'cancel'; socket: Duplex; packet: Buffer };

export interface NegotiateOptions {
  localTls: boolean;
  timeoutMs: number;
}

/** `onSocket` is told each time the PG-speaking socket changes (plain → TLS). */
export async function negotiate(raw: Socket, opts: NegotiateOptions, onSocket: (s: Duplex) => void = () => {}): Promise<Negotiated> {
  let socket: Duplex = raw;
  let buffered: Buffer = Buffer.alloc(0);
  let tls = false;
  for (;;) {
    const got = await readPacket(socket, buffered, { detectTls: !tls, timeoutMs: opts.timeoutMs });
    if (got.kind === 'tls-client-hello') {
      if (!opts.localTls) {
        throw new GatehouseError(ErrorCodes.PROTOCOL, 'direct TLS connection refused: local TLS is turned off for this proxy; use sslmode=disable or prefer');
      }
      raw.unshift(got.buffered);
      socket = await startTls(raw, true);
      onSocket(socket);
      tls = true;
      buffered = Buffer.alloc(0);
      continue;
    }
    const packet = parseStartupPacket(got.packet);
    buffered = got.rest;
    switch (packet.kind) {
      case 'gssenc':
        socket.write(NO);
        continue;
      case 'ssl':
        if (tls) throw new GatehouseError(ErrorCodes.PROTOCOL, 'SSLRequest received on a connection that is already encrypted');
        if (!opts.localTls) {
          socket.write(NO);
          continue;
        }
        raw.write(SSL_YES);
        // bytes sent after the SSLRequest (an early ClientHello) belong to the TLS layer
        if (buffered.length > 0) raw.unshift(buffered);
        buffered = Buffer.alloc(0);
        socket = await startTls(raw, false);
        onSocket(socket);
        tls = true;
        continue;
      case 'cancel':
        return { kind: 'cancel', socket, packet: got.packet };
      case 'startup':
        return { kind: 'startup', socket, packet: got.packet, startup: packet, rest: buffered, tls };
    }
  }
}

async function startTls(raw: Socket, direct: boolean): Promise<TLSSocket> {
  const socket = new TLSSocket(raw, {
    isServer: true,
    secureContext: await localTlsContext(),
    ALPNProtocols: [PG_ALPN],
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('secure', onSecure);
      socket.off('close', onClose);
      reject(new GatehouseError(ErrorCodes.PROTOCOL, `local TLS handshake failed: ${err.message}`, { cause: err }));
    };
    const onClose = (): void => onError(new Error('client closed the connection'));
    const onSecure = (): void => {
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve();
    };
    socket.once('secure', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
  if (direct && socket.alpnProtocol !== PG_ALPN) {
    socket.destroy();
    throw new GatehouseError(ErrorCodes.PROTOCOL, 'direct TLS connection without ALPN "postgresql" refused');
  }
  return socket;
}
