/**
 * Route definitions: method, path, whether a bearer token is needed, and zod schemas for
 * the body and query. Validation happens once, here at the edge; handlers get typed input.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPMethod } from 'find-my-way';
import type { z } from 'zod';
import type { User } from '../store/users.ts';

export interface Reply {
  status: number;
  body: unknown;
  /** Raw text responses (metrics). */
  contentType?: string;
  /** Extra response headers (Retry-After; Set-Cookie takes several values). */
  headers?: Record<string, string | string[]>;
  /** A streamed response (audit export): writes status, headers and body itself. */
  stream?: (res: ServerResponse) => Promise<void>;
}

export interface RequestInfo {
  req: IncomingMessage;
  params: Record<string, string>;
  sourceAddress: string | null;
}

export interface PublicContext<B, Q> extends RequestInfo {
  body: B;
  query: Q;
}

export interface AuthedContext<B, Q> extends PublicContext<B, Q> {
  user: User;
}

/** A route with its types erased, as the dispatcher sees it. */
export interface AnyRoute {
  method: HTTPMethod;
  path: string;
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodType;
  handle(ctx: AuthedContext<unknown, unknown> | PublicContext<unknown, unknown>): Promise<Reply>;
}

interface Spec<B, Q, C> {
  method: HTTPMethod;
  path: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  handler: (ctx: C) => Promise<Reply>;
}

export function route<B = undefined, Q = undefined>(spec: Spec<B, Q, AuthedContext<B, Q>>): AnyRoute {
  return { method: spec.method, path: spec.path, auth: true, body: spec.body, query: spec.query, handle: spec.handler };
}

export function publicRoute<B = undefined, Q = undefined>(spec: Spec<B, Q, PublicContext<B, Q>>): AnyRoute {
  return { method: spec.method, path: spec.path, auth: false, body: spec.body, query: spec.query, handle: spec.handler };
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

export function created(body: unknown): Reply {
  return { status: 201, body };
}
