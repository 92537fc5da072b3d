/**
 * A per-session local password for shared machines (issue 10 item 4): where the OS cannot tell
 * which user connects, the local proxy asks every client for a password that only the person
 * who started the access was shown. It is checked with SCRAM-SHA-256 (RFC 5802/7677), so the
 * password never crosses the loopback in clear and a client can verify the proxy knows it too.
 * After SASLFinal the proxy forwards the startup to the gateway, whose reply begins with
 * AuthenticationOk.
 *
 * @see https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { createAuthenticationSASL, createAuthenticationSASLContinue, createAuthenticationSASLFinal } from '../protocol/backend/authentication.ts';
import { FrontendCode } from '../protocol/constants.ts';
import { parseSASLInitialResponse } from '../protocol/frontend/sasl-initial-response.ts';
import { parseSASLResponse } from '../protocol/frontend/sasl-response.ts';
import { preparePassword } from '../auth/saslprep.ts';

const MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;
const MAX_AUTH_MESSAGE = 8192;

/** A fresh local password: 24 random bytes, URL-safe so it fits a connection URL as is. */
export function generateLocalPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The SCRAM verifier of a local password, computed once per proxy. */
export class LocalPasswordVerifier {
  readonly #salt = randomBytes(16);
  readonly #storedKey: Buffer;
  readonly #serverKey: Buffer;

  constructor(password: string) {
    const salted = pbkdf2Sync(preparePassword(password), this.#salt, ITERATIONS, 32, 'sha256');
    this.#storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
    this.#serverKey = hmac(salted, 'Server Key');
  }

  /**
   * Runs the SCRAM exchange with a client that has sent its StartupMessage (`rest`: bytes it
   * sent after it). Resolves with the bytes read past the last SCRAM message; rejects with
   * INVALID_CREDENTIALS (wrong or missing password) or PROTOCOL.
   */
  async authenticate(client: Duplex, rest: Buffer, timeoutMs: number): Promise<Buffer> {
    const reader = new ClientMessages(client, rest, timeoutMs);
    try {
      client.write(createAuthenticationSASL([MECHANISM]));
      const first = await reader.next();
      if (first.code !== FrontendCode.Password) throw protocol('expected a SASLInitialResponse');
      const initial = parseSASLInitialResponse(first.payload);
      if (initial.mechanism !== MECHANISM || !initial.data) throw wrongPassword('the client did not offer SCRAM-SHA-256');
      const clientFirst = initial.data.toString('utf8');
      const gs2 = /^([ny]),,/.exec(clientFirst); // no channel binding: it is not offered
      if (!gs2) throw wrongPassword('the client asked for channel binding, which the local proxy does not offer');
      const clientFirstBare = clientFirst.slice(gs2[0].length);
      const clientNonce = /(?:^|,)r=([^,]+)/.exec(clientFirstBare)?.[1];
      if (!clientNonce) throw protocol('SCRAM client-first-message without a nonce');
      const nonce = clientNonce + randomBytes(18).toString('base64');
      const serverFirst = `r=${nonce},s=${this.#salt.toString('base64')},i=${ITERATIONS}`;
      client.write(createAuthenticationSASLContinue(Buffer.from(serverFirst, 'utf8')));

      const second = await reader.next();
      if (second.code !== FrontendCode.Password) throw protocol('expected a SASLResponse');
      const clientFinal = parseSASLResponse(second.payload).data.toString('utf8');
      const proofAt = clientFinal.lastIndexOf(',p=');
      if (proofAt < 0) throw protocol('SCRAM client-final-message without a proof');
      const withoutProof = clientFinal.slice(0, proofAt);
      const attrs = new Map(withoutProof.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
      if (attrs.get('r') !== nonce || attrs.get('c') !== Buffer.from(gs2[0]).toString('base64'))
        throw wrongPassword('the SCRAM nonce or binding does not match');
      const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(this.#storedKey, authMessage);
      if (proof.length !== signature.length) throw wrongPassword('wrong local password');
      const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]));
      if (!timingSafeEqual(createHash('sha256').update(clientKey).digest(), this.#storedKey)) throw wrongPassword('wrong local password');
      client.write(createAuthenticationSASLFinal(Buffer.from(`v=${hmac(this.#serverKey, authMessage).toString('base64')}`, 'utf8')));
      return reader.release();
    } finally {
      reader.release();
    }
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function wrongPassword(why: string): GatehouseError {
  return new GatehouseError(ErrorCodes.INVALID_CREDENTIALS, why);
}

function protocol(why: string): GatehouseError {
  return new GatehouseError(ErrorCodes.PROTOCOL, why);
}

/** Typed client messages, one at a time, from a buffer and then the socket. */
class ClientMessages {
  #buffer: Buffer;
  #waiter: (() => void) | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    this.#waiter?.();
  };
  readonly #onClose = (): void => {
    this.#failure ??= new GatehouseError(ErrorCodes.INVALID_CREDENTIALS, 'the client closed the connection during the local password check');
    this.#waiter?.();
  };
  #released = false;

  constructor(
    private readonly socket: Duplex,
    rest: Buffer,
    private readonly timeoutMs: number,
  ) {
    this.#buffer = rest;
    socket.on('data', this.#onData);
    socket.once('close', this.#onClose);
    socket.once('end', this.#onClose);
    socket.resume();
  }

  async next(): Promise<{ code: number; payload: Buffer }> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 5) {
        const length = this.#buffer.readInt32BE(1);
        if (length < 4 || length > MAX_AUTH_MESSAGE) throw protocol('invalid message length during the local password check');
        if (this.#buffer.length >= 1 + length) {
          const code = this.#buffer[0];
          const payload = this.#buffer.subarray(5, 1 + length);
          this.#buffer = this.#buffer.subarray(1 + length);
          return { code, payload };
        }
      }
      if (this.#failure) throw this.#failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new GatehouseError(ErrorCodes.TIMEOUT, 'the client did not answer the local password request in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Stops reading (the socket is paused) and returns what was read past the last message. */
  release(): Buffer {
    if (!this.#released) {
      this.#released = true;
      this.socket.off('data', this.#onData);
      this.socket.off('close', this.#onClose);
      this.socket.off('end', this.#onClose);
      this.socket.pause();
    }
    return this.#buffer;
  }
}
