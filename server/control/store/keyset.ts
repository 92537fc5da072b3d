/**
 * Keyset paging for lists that grow (sessions, users, project members): a page ends with an
 * opaque cursor naming its last row's sort key, and the next page starts strictly after it.
 * Rows inserted meanwhile sort before the cursor (newer) or take their place in the order, so
 * paging on never repeats a row nor skips one that existed when the first page was read.
 */
import { z } from 'zod';

/** A cursor for a list sorted by (time desc, id desc). */
export interface TimeIdCursor {
  at: Date;
  id: string;
}
/** A cursor for a list sorted by a unique text key (email) ascending. */
export interface TextCursor {
  key: string;
}

const timeId = z.object({ t: z.iso.datetime(), i: z.string().min(1).max(200) });
const text = z.object({ k: z.string().min(1).max(400) });

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeJson(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function encodeTimeIdCursor(c: TimeIdCursor): string {
  return encode({ t: c.at.toISOString(), i: c.id });
}

export function encodeTextCursor(c: TextCursor): string {
  return encode({ k: c.key });
}

const message = 'is not a cursor this list handed out; pass the nextCursor of the previous page unchanged';

/** zod schemas for the `cursor` query parameter (decoded at the edge, once). */
export const timeIdCursor = z
  .string()
  .max(600)
  .transform((raw, ctx): TimeIdCursor => {
    const parsed = timeId.safeParse(decodeJson(raw));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return { at: new Date(parsed.data.t), id: parsed.data.i };
  });

export const textCursor = z
  .string()
  .max(600)
  .transform((raw, ctx): TextCursor => {
    const parsed = text.safeParse(decodeJson(raw));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return { key: parsed.data.k };
  });

/** `%`, `_` and `\` matched literally inside a LIKE pattern. */
export function likeContains(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
