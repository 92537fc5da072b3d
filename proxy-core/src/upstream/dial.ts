import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ErrorCodes } from '../errors.ts';
import { createSSLRequest } from '../protocol/startup.ts';
import { CLIENT_CANNOT_CONNECT, CONNECTION_FAILURE } from '../protocol/sqlstate.ts';
import type { UpstreamSsl } from './types.ts';
import { UpstreamError } from './upstream-error.ts';

export interface DialedSocket {
  socket: Socket;
  /** The address actually connected to (after DNS), for cancels on the same server. */
  remoteAddress: string;
  remotePort: number;
  /** The server certificate (DER) when on TLS, for channel binding. */
  peerCertificate: Buffer | undefined;
}

export interface DialOptions {
  /** The name the certificate must match (the resource's host), when it differs from `host`. */
  verifyHost?: string;
  /** Called with each socket as it is created, so a deadline can destroy it. */
  track?: (socket: Socket) => void;
}

const TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

/**
 * TCP to host:port, then (when `ssl.enabled`) SSLRequest → 'S' → TLS. Never falls back to
 * plaintext: 'N' or anything else is an error.
 */
export async function dialDatabase(host: string, port: number, ssl: UpstreamSsl, options: DialOptions = {}): Promise<DialedSocket> {
  const where = `${host}:${port}`;
  const raw = await tcpConnect(host, port, options.track);
  const remoteAddress = raw.remoteAddress ?? host;
  const remotePort = raw.remotePort ?? port;
  if (!ssl.enabled) return { socket: raw, remoteAddress, remotePort, peerCertificate: undefined };

  raw.write(createSSLRequest());
  const answer = await readSslAnswer(raw, where);
  if (answer !== 'S') {
    raw.destroy();
    throw new UpstreamError(ErrorCodes.UPSTREAM_TLS, `the database server at ${where} does not accept TLS but the resource requires it`, {
      sqlstate: CLIENT_CANNOT_CONNECT,
      hint: 'Enable ssl on the database server, or turn TLS off in the resource settings if the network path is trusted.',
    });
  }
  const verifyHost = options.verifyHost ?? host;
  const secure = await tlsUpgrade(raw, verifyHost, ssl, where, options.track);
  const cert = secure.getPeerCertificate();
  return { socket: secure, remoteAddress, remotePort, peerCertificate: cert && cert.raw ? cert.raw : undefined };
}

function tcpConnect(host: string, port: number, track?: (s: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    track?.(socket);
    socket.setNoDelay(true);
    const onError = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(
        new UpstreamError(ErrorCodes.UPSTREAM_CONNECT, `could not connect to the database server at ${host}:${port}: ${err.code ?? err.message}`, {
          sqlstate: CLIENT_CANNOT_CONNECT,
          hint: "Check the resource's host and port, and that the gateway can reach the database.",
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function readSslAnswer(socket: Socket, where: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onClose);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      socket.pause();
      if (chunk.length !== 1) {
        // Bytes after 'S' before the handshake would be injected into the session (CVE-2021-23222).
        socket.destroy();
        reject(
          new UpstreamError(ErrorCodes.UPSTREAM_TLS, `the database server at ${where} sent unexpected data in answer to SSLRequest`, {
            sqlstate: CONNECTION_FAILURE,
          }),
        );
        return;
      }
      resolve(String.fromCharCode(chunk[0]));
    };
    const onClose = (err?: Error | boolean) => {
      cleanup();
      reject(
        new UpstreamError(ErrorCodes.UPSTREAM_CONNECT, `the database server at ${where} closed the connection in answer to SSLRequest`, {
          sqlstate: CONNECTION_FAILURE,
          cause: err instanceof Error ? err : undefined,
        }),
      );
    };
    socket.on('data', onData);
    socket.on('error', onClose);
    socket.on('close', onClose);
  });
}

function tlsUpgrade(raw: Socket, verifyHost: string, ssl: UpstreamSsl, where: string, track?: (s: Socket) => void): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket: raw,
      host: verifyHost,
      servername: isIP(verifyHost) ? undefined : verifyHost,
      rejectUnauthorized: ssl.rejectUnauthorized,
      ca: ssl.ca,
    });
    track?.(secure);
    const onError = (err: NodeJS.ErrnoException) => {
      secure.destroy();
      raw.destroy();
      reject(tlsError(err, where, ssl));
    };
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

function tlsError(err: NodeJS.ErrnoException, where: string, ssl: UpstreamSsl): UpstreamError {
  const code = err.code ?? '';
  let message = `TLS with the database server at ${where} failed: ${err.message}`;
  let hint = 'Check the TLS settings of the resource and of the database server.';
  if (TRUST_CODES.has(code)) {
    message = `the database server at ${where} presented a certificate that is not trusted (${code})`;
    hint = ssl.ca
      ? "The certificate is not signed by the resource's CA certificate: set the right CA, or turn off certificate verification for this resource."
      : "Set the resource's CA certificate (ssl.ca) to the CA that signed the server certificate, or turn off certificate verification for this resource.";
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    message = `the database server certificate does not match the host name (${where}): ${err.message}`;
    hint = 'Use the host name the certificate was issued for in the resource, or turn off certificate verification.';
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    message = `the database server at ${where} presented a certificate that is expired or not yet valid (${code})`;
    hint = 'Renew the database server certificate.';
  }
  return new UpstreamError(ErrorCodes.UPSTREAM_TLS, message, { sqlstate: CLIENT_CANNOT_CONNECT, hint, cause: err });
}
