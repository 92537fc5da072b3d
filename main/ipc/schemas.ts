/**
 * Validation of what the renderer sends, at the edge, once. Each schema is typed against
 * the contract, so a contract change that is not reflected here fails to compile.
 */
import { z } from 'zod';
import type { ArgsOf, Channel } from './contract.ts';

const id = z.string().min(1).max(200);
const name = z.string().min(1).max(200);
const port = z.number().int().min(1).max(65535);
const sessionRef = z.tuple([z.strictObject({ sessionId: id })]);
const mfaMethod = z.enum(['totp', 'email', 'recovery']);
const duration = z.union([z.string().regex(/^\d+[smhd]?$/), z.number().int().positive()]);
const decision = z.tuple([z.strictObject({ id, comment: z.string().max(2000).optional() })]);
const mfaProof = z.strictObject({ method: mfaMethod, code: z.string().trim().min(1).max(100) });
const accessRequest = {
  projectId: id,
  resource: name,
  account: name,
  duration,
  port: port.optional(),
  reason: z.string().max(1000).optional(),
  mfa: mfaProof.optional(),
  accessRequestId: id.optional(),
};
const flowId = z.string().min(1).max(100);
const profileTarget = z.tuple([
  z.strictObject({
    projectId: id,
    resource: name,
    account: name,
    kinds: z
      .array(z.enum(['pg-service', 'dbeaver']))
      .min(1)
      .max(2)
      .optional(),
  }),
]);

export const argSchemas: { [C in Channel]: z.ZodType<ArgsOf<C>> } = {
  'auth.current': z.tuple([]),
  'auth.signIn': z.tuple([z.strictObject({ serverUrl: z.string().min(1).max(2000), email: z.string().min(1).max(320), password: z.string().max(1000) })]),
  'auth.submitMfa': z.tuple([z.strictObject({ challengeId: z.string().min(1).max(4000), method: mfaMethod, code: z.string().trim().min(1).max(100) })]),
  'auth.sendEmailCode': z.tuple([z.strictObject({ challengeId: z.string().min(1).max(4000).optional() })]),
  'auth.signOut': z.tuple([]),
  'auth.mfaEnrollStart': z.tuple([z.strictObject({ challengeId: z.string().min(1).max(4000).optional() })]),
  'auth.mfaEnrollConfirm': z.tuple([z.strictObject({ code: z.string().trim().min(1).max(100), challengeId: z.string().min(1).max(4000).optional() })]),
  'auth.profile': z.tuple([]),
  'accounts.list': z.tuple([]),
  'sessions.start': z.tuple([z.strictObject(accessRequest)]),
  'sessions.stop': sessionRef,
  'sessions.list': z.tuple([]),
  'sessions.extend': z.tuple([z.strictObject({ sessionId: id, duration, mfa: mfaProof.optional() })]),
  'sessions.accessAgain': z.tuple([z.strictObject({ sessionId: id, flowId })]),
  'access.begin': z.tuple([z.strictObject({ ...accessRequest, flowId })]),
  'access.answer': z.tuple([z.strictObject({ flowId, mfa: mfaProof.optional(), reason: z.string().trim().min(1).max(2000).optional() })]),
  'access.cancel': z.tuple([z.strictObject({ flowId })]),
  'profiles.list': z.tuple([]),
  'profiles.write': profileTarget,
  'profiles.remove': profileTarget,
  'ports.set': z.tuple([z.strictObject({ projectId: id, resource: name, account: name, port })]),
  'clients.openPsql': sessionRef,
  'clients.openDbeaver': sessionRef,
  'clients.copyJdbcUrl': sessionRef,
  'history.list': z.tuple([z.strictObject({ limit: z.number().int().min(1).max(500).optional() })]),
  'history.events': z.tuple([
    z.strictObject({ sessionId: id, after: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(1000).optional() }),
  ]),
  'requests.create': z.tuple([z.strictObject({ projectId: id, resource: name, account: name, duration, reason: z.string().trim().min(1).max(2000) })]),
  'requests.get': z.tuple([z.strictObject({ id })]),
  'requests.list': z.tuple([z.strictObject({ status: z.enum(['pending', 'approved', 'denied', 'expired']).optional(), mine: z.boolean().optional() })]),
  'requests.approve': decision,
  'requests.deny': decision,
  'settings.get': z.tuple([]),
  'settings.set': z.tuple([
    z.strictObject({
      serverUrl: z.string().max(2000).optional(),
      dbeaverPath: z.string().max(4096).optional(),
      psqlPath: z.string().max(4096).optional(),
      notifications: z.boolean().optional(),
    }),
  ]),
};
