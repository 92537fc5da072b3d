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

export const argSchemas: { [C in Channel]: z.ZodType<ArgsOf<C>> } = {
  'auth.current': z.tuple([]),
  'auth.signIn': z.tuple([z.strictObject({ serverUrl: z.string().min(1).max(2000), email: z.string().min(1).max(320), password: z.string().max(1000) })]),
  'auth.submitMfa': z.tuple([z.strictObject({ challengeId: id, code: z.string().min(1).max(100) })]),
  'auth.signOut': z.tuple([]),
  'accounts.list': z.tuple([]),
  'sessions.start': z.tuple([z.strictObject({
    projectId: id, resource: name, account: name,
    duration: z.union([z.string().regex(/^\d+[smhd]?$/), z.number().int().positive()]),
    port: port.optional(),
    reason: z.string().max(1000).optional(),
  })]),
  'sessions.stop': sessionRef,
  'sessions.list': z.tuple([]),
  'ports.set': z.tuple([z.strictObject({ projectId: id, resource: name, account: name, port })]),
  'clients.openPsql': sessionRef,
  'clients.openDbeaver': sessionRef,
  'clients.copyJdbcUrl': sessionRef,
  'history.list': z.tuple([z.strictObject({ limit: z.number().int().min(1).max(500).optional() })]),
  'history.events': z.tuple([z.strictObject({ sessionId: id, after: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(1000).optional() })]),
  'settings.get': z.tuple([]),
  'settings.set': z.tuple([z.strictObject({
    serverUrl: z.string().max(2000).optional(),
    dbeaverPath: z.string().max(4096).optional(),
    psqlPath: z.string().max(4096).optional(),
    notifications: z.boolean().optional(),
  })]),
};
