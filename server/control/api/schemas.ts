/** Request bodies and queries, validated once at the edge. */
import { z } from 'zod';
import { publicKeyDer } from '../../../proxy-core/src/tls/keys.ts';
import { timeIdCursor } from '../store/keyset.ts';
import { approvalRuleBody, email, id, name, somePatch } from './access-schemas.ts';

/** The key a certificate is issued for (gateway, session): what the CA accepts, checked before anything is spent. */
const publicKeyPem = z
  .string()
  .max(10_000)
  .refine((pem) => {
    try {
      publicKeyDer(pem);
      return true;
    } catch {
      return false;
    }
  }, 'must be a PEM-encoded ECDSA P-256 public key (SPKI)');

export const loginBody = z.object({ email: z.string().max(320), password: z.string().max(1024) });
export const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) });
export const logoutBody = z.object({ refreshToken: z.string().min(1).max(512).optional() });

export const createUserBody = z.object({
  email,
  name: z.string().trim().max(200).optional(),
  password: z.string().min(8).max(1024),
  isAdmin: z.boolean().default(false),
});

export const createProjectBody = z.object({ name });
export const setMemberBody = z
  .object({ userId: id.optional(), email: email.optional(), role: z.enum(['admin', 'member', 'auditor']) })
  .refine((b) => (b.userId ?? b.email) !== undefined, {
    message: 'give userId or email',
    path: ['userId'],
  });

export const createGatewayBody = z.object({ name, projectId: id.optional() });
export const enrollBody = z.object({ token: z.string().min(1).max(512), publicKeyPem });
export const linkChallengeBody = z.object({ gatewayId: id });

const ssl = z.object({
  enabled: z.boolean().default(true),
  rejectUnauthorized: z.boolean().default(true),
  ca: z.string().max(100_000).optional(),
});
const host = z.string().trim().min(1).max(255);
const port = z.number().int().min(1).max(65535);
const database = z.string().min(1).max(63);

export const createResourceBody = z.object({
  name,
  gatewayId: id,
  host,
  port: port.default(5432),
  database,
  ssl: ssl.default({ enabled: true, rejectUnauthorized: true }),
  /** Let the gateway answer MD5 password requests (SCRAM always). Instance admins only. */
  allowMd5: z.boolean().default(false),
  /** Let the gateway send the password in clear over verified TLS. Instance admins only. */
  allowCleartext: z.boolean().default(false),
});
export const updateResourceBody = somePatch({
  name: name.optional(),
  gatewayId: id.optional(),
  host: host.optional(),
  port: port.optional(),
  database: database.optional(),
  ssl: ssl.optional(),
  allowMd5: z.boolean().optional(),
  allowCleartext: z.boolean().optional(),
});

const username = z.string().min(1).max(63);
const secret = z.string().min(1).max(4096);
export const createAccountBody = z.object({
  name,
  description: z.string().max(1000).default(''),
  username,
  password: secret,
  requireMfa: z.boolean().default(false),
});
export const updateAccountBody = somePatch({
  requireApproval: approvalRuleBody.optional(),
  name: name.optional(),
  description: z.string().max(1000).optional(),
  username: username.optional(),
  password: secret.optional(),
  requireMfa: z.boolean().optional(),
});

/** A fresh second factor for `POST /sessions` on an account with requireMfa. */
const mfaProofBody = z.object({ method: z.enum(['totp', 'email']), code: z.string().trim().min(1).max(64) });

export const createSessionBody = z.object({
  projectId: id,
  resource: z.string().min(1).max(200),
  account: z.string().min(1).max(200),
  duration: z.union([z.number(), z.string().max(20)]),
  publicKeyPem,
  accessRequestId: id.optional(),
  /** A fresh MFA proof for accounts with requireMfa (checked in SessionService.create). */
  mfa: mfaProofBody.optional(),
});

export const extendSessionBody = z.object({
  /** How much longer, added to the current expiry. */
  duration: z.union([z.number(), z.string().max(20)]),
  /** The session's key again: the new certificate (valid until the new expiry) is issued for it. */
  publicKeyPem,
  mfa: mfaProofBody.optional(),
});

const sessionStatus = z.enum(['active', 'ended', 'revoked', 'expired']);
const filterText = z.string().trim().min(1).max(320);
export const listSessionsQuery = z.object({
  projectId: id.optional(),
  status: sessionStatus.optional(),
  /** A user id or part of the email; a resource / account id or part of its name. */
  user: filterText.optional(),
  resource: filterText.optional(),
  account: filterText.optional(),
  /** `proxy` (desktop / CLI) or `web` (Web Access). */
  kind: z.enum(['proxy', 'web']).optional(),
  /** The previous page's `nextCursor`. */
  cursor: timeIdCursor.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const logsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  /** The newest N events instead of a page after `after`. */
  tail: z.coerce.number().int().min(1).max(1000).optional(),
});
