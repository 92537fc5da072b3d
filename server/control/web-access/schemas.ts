/** Web Access request bodies, queries and terminal messages (docs/web-access.md), validated once at the edge. */
import { z } from 'zod';
import { FILTER_OPS } from './explorer/rows.ts';

const id = z.string().min(1).max(200);
const columnName = z.string().min(1).max(1000);
const cellValue: z.ZodType<unknown> = z.unknown();

export const createWebSessionBody = z.object({
  projectId: id,
  resourceId: id,
  accountId: id,
  duration: z.union([z.number().int().positive(), z.string().min(1).max(20)]),
  mfa: z
    .object({
      method: z.enum(['totp', 'email']),
      code: z.string().trim().min(1).max(64),
    })
    .optional(),
  accessRequestId: id.optional(),
});

export const filterSchema = z.object({
  column: columnName,
  op: z.enum(FILTER_OPS),
  value: cellValue.optional(),
});
export const sortSchema = z.object({
  column: columnName,
  direction: z.enum(['asc', 'desc']).default('asc'),
});

export const rowsBody = z.object({
  filters: z.array(filterSchema).max(50).default([]),
  sort: z.array(sortSchema).max(20).default([]),
  limit: z.number().int().min(1).max(100_000).default(100),
  after: z.string().max(100_000).optional(),
});

const values = z.record(z.string(), cellValue);
export const cellBody = z.object({ key: values, column: columnName });
export const changesBody = z.object({
  changes: z
    .array(
      z.discriminatedUnion('op', [
        z.object({ op: z.literal('insert'), values }),
        z.object({
          op: z.literal('update'),
          key: values,
          values,
          original: values,
        }),
        z.object({ op: z.literal('delete'), key: values, original: values }),
      ]),
    )
    .min(1)
    .max(1000),
  preview: z.boolean().optional(),
});

/** JSON text in a query parameter (export's filters and sort). */
const jsonParam = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .max(100_000)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

export const exportQuery = z.object({
  format: z.enum(['csv', 'json']).default('csv'),
  filters: jsonParam(z.array(filterSchema).max(50)).optional(),
  sort: jsonParam(z.array(sortSchema).max(20)).optional(),
});

export const historyQuery = z.object({
  accountId: id.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const historyBody = z.object({
  sessionId: id,
  sql: z.string().min(1).max(1_000_000),
});

/** Browser → server on the terminal WebSocket. */
export const terminalMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run'),
    id: z.string().min(1).max(100),
    sql: z.string().max(1_000_000),
  }),
  z.object({
    type: z.literal('fetch'),
    id: z.string().min(1).max(100),
    resultId: z.string().min(1).max(200),
    rows: z.number().int().min(1).max(100_000),
  }),
  z.object({ type: z.literal('cancel') }),
  z.object({ type: z.literal('ping') }),
]);
export type TerminalMessage = z.infer<typeof terminalMessage>;
