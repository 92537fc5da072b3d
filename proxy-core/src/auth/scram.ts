/**
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS client (RFC 5802, RFC 7677), as PostgreSQL uses it.
 * @see https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ErrorCodes, GatehouseError } from '../errors.ts';
import { preparePassword } from './saslprep.ts';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS';
export type ScramMechanism = typeof SCRAM_SHA_256 | typeof SCRAM_SHA_256_PLUS;

export const DEFAULT_MAX_SCRAM_ITERATIONS = 100_000;
const CLIENT_NONCE_BYTES = 18;
const KEY_LENGTH = 32;

export interface ScramClientOptions {
  password: string;
  mechanism: ScramMechanism;
  /** Whether the connection is on TLS (gs2 header `y` instead of `n` without PLUS). */
  tls: boolean;
  /** `tls-server-end-point` data; required for SCRAM-SHA-256-PLUS. */
  channelBindingData?: Buffer;
  /** PostgreSQL ignores the SCRAM user name; libpq sends `*`. */
  username?: string;
  maxIterations?: number;
  /** For tests (RFC vectors) only. */
  clientNonce?: string;
}

function authError(message: string): GatehouseError {
  return new GatehouseError(ErrorCodes.UPSTREAM_AUTH, `SCRAM authentication with the database failed: ${message}`);
}

/** Runs one SCRAM exchange: `clientFirst()`, `clientFinal(serverFirst)`, `verifyServerFinal(serverFinal)`. */
export class ScramClient {
  private readonly gs2Header: string;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | undefined;

  constructor(private readonly options: ScramClientOptions) {
    if (options.mechanism === SCRAM_SHA_256_PLUS) {
      if (!options.channelBindingData) throw authError('SCRAM-SHA-256-PLUS needs the server certificate for channel binding');
      this.gs2Header = 'p=tls-server-end-point,,';
    } else {
      this.gs2Header = options.tls ? 'y,,' : 'n,,';
    }
    this.clientNonce = options.clientNonce ?? randomBytes(CLIENT_NONCE_BYTES).toString('base64');
    this.clientFirstBare = `n=${escapeName(options.username ?? '*')},r=${this.clientNonce}`;
  }

  get mechanism(): ScramMechanism {
    return this.options.mechanism;
  }

  clientFirst(): Buffer {
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  async clientFinal(serverFirstData: Buffer): Promise<Buffer> {
    const serverFirst = serverFirstData.toString('utf8');
    const attrs = parseAttributes(serverFirst);
    if (attrs.m !== undefined) throw authError('the server asked for an unsupported SCRAM extension');
    const nonce = attrs.r;
    if (!nonce || !nonce.startsWith(this.clientNonce) || nonce.length <= this.clientNonce.length) {
      throw authError('the server nonce does not extend the client nonce');
    }
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(nonce)) throw authError('the server nonce has invalid characters');
    const salt = attrs.s !== undefined ? Buffer.from(attrs.s, 'base64') : Buffer.alloc(0);
    if (salt.length === 0) throw authError('the server sent no salt');
    const iterations = Number(attrs.i);
    const max = this.options.maxIterations ?? DEFAULT_MAX_SCRAM_ITERATIONS;
    if (!/^\d+$/.test(attrs.i ?? '') || iterations < 1 || iterations > max) {
      throw authError(`the server asked for ${attrs.i ?? 'no'} iterations (allowed 1..${max})`);
    }

    const cbind =
      this.options.mechanism === SCRAM_SHA_256_PLUS
        ? Buffer.concat([Buffer.from(this.gs2Header), this.options.channelBindingData!])
        : Buffer.from(this.gs2Header);
    const withoutProof = `c=${cbind.toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;

    const password = preparePassword(this.options.password);
    const salted = await saltedPassword(password, salt, iterations);
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(KEY_LENGTH);
    for (let i = 0; i < KEY_LENGTH; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  verifyServerFinal(serverFinalData: Buffer): void {
    if (!this.expectedServerSignature) throw authError('server-final-message before client-final-message');
    const attrs = parseAttributes(serverFinalData.toString('utf8'));
    if (attrs.e !== undefined) throw authError(`the server reported "${attrs.e}"`);
    const v = attrs.v !== undefined ? Buffer.from(attrs.v, 'base64') : Buffer.alloc(0);
    if (v.length !== this.expectedServerSignature.length || !timingSafeEqual(v, this.expectedServerSignature)) {
      throw authError('the server signature is wrong (the server does not know the password)');
    }
  }
}

/**
 * SaltedPassword per (password, salt, iterations). PBKDF2 is the costly part of SCRAM (4096
 * rounds by default) and its result only changes with the password or the server's salt, so it
 * runs once per account and server, not once per connection (pgbouncer caches it too). The
 * cache lives in this process's memory only, which already holds the passwords it uses.
 */
const saltedCache = new Map<string, Buffer>();
const SALTED_CACHE_MAX = 256;

async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const key = createHash('sha256').update(password, 'utf8').update('\0').update(salt).update(`\0${iterations}`).digest('base64');
  const cached = saltedCache.get(key);
  if (cached !== undefined) return cached;
  const salted = await pbkdf2Async(password, salt, iterations, KEY_LENGTH, 'sha256');
  if (saltedCache.size >= SALTED_CACHE_MAX) saltedCache.delete(saltedCache.keys().next().value as string);
  saltedCache.set(key, salted);
  return salted;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function escapeName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseAttributes(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw authError('malformed SCRAM message from the server');
    out[part[0]] = part.slice(2);
  }
  return out;
}
