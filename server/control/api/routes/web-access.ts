/**
 * Web Access over HTTP (docs/web-access.md): web sessions, the Data Explorer (schema tree,
 * columns, rows, staged changes, export), the completion catalog and the query history.
 * Bearer-authenticated like every API route (the console keeps its access token in memory).
 * The SQL terminal is a WebSocket (web-access/terminal/terminal-endpoint.ts).
 */
import type { ServerResponse } from 'node:http';
import { sessionDto } from '../dto.ts';
import { notFound } from '../errors.ts';
import { created, ok, route, type AnyRoute, type Reply } from '../route.ts';
import type { Services } from '../services.ts';
import { completionCatalog, describeRelation, schemaTree } from '../../web-access/explorer/catalog.ts';
import { applyChanges, planChanges, previewStatements } from '../../web-access/explorer/changes.ts';
import { streamExport } from '../../web-access/explorer/export.ts';
import { readCell, readRows } from '../../web-access/explorer/rows.ts';
import { DEFAULT_CELL_TEXT_LIMIT } from '../../web-access/cells.ts';
import { toHttpError } from '../../web-access/query-error.ts';
import { cellBody, changesBody, createWebSessionBody, exportQuery, historyBody, historyQuery, rowsBody } from '../../web-access/schemas.ts';
import type { WebSession } from '../../web-access/web-session.ts';

export const WEB_SESSIONS_PATH = '/api/v1/web-sessions';
const TABLE = `${WEB_SESSIONS_PATH}/:id/tables/:schema/:table`;

export function webAccessRoutes(s: Services): AnyRoute[] {
  const web = s.webAccess;
  /** Runs `work` on the caller's live web session as activity, database errors as QUERY_FAILED. */
  const onSession = async <T>(user: Parameters<typeof web.get>[0], id: string, work: (session: WebSession) => Promise<T>): Promise<T> => {
    const session = await web.get(user, id);
    try {
      return await session.busy(() => work(session));
    } catch (err) {
      throw toHttpError(err, web.limits.statementTimeoutMs);
    }
  };

  return [
    route({
      method: 'POST',
      path: WEB_SESSIONS_PATH,
      body: createWebSessionBody,
      handler: async ({ user, body, req, sourceAddress }) => {
        const session = await web.create(user, body, req.headers.authorization ?? '', sourceAddress);
        const dto = sessionDto(session.record);
        return created({
          id: session.id,
          sessionId: session.record.id,
          expiresAt: dto.expiresAt,
          resource: dto.resource,
          account: dto.account,
          limits: {
            idleTimeoutSeconds: web.limits.idleTimeoutSeconds,
            statementTimeoutMs: web.limits.statementTimeoutMs,
            maxRowsPerResult: web.limits.maxRowsPerResult,
          },
        });
      },
    }),
    route({
      method: 'DELETE',
      path: `${WEB_SESSIONS_PATH}/:id`,
      handler: async ({ user, params, sourceAddress }) => {
        await web.end(user, params.id, sourceAddress);
        return { status: 204, body: '', contentType: 'text/plain' };
      },
    }),
    route({
      method: 'GET',
      path: `${WEB_SESSIONS_PATH}/:id/schema`,
      handler: async ({ user, params }) => ok(await onSession(user, params.id, (session) => session.withExplorer(schemaTree))),
    }),
    route({
      method: 'GET',
      path: `${WEB_SESSIONS_PATH}/:id/catalog`,
      handler: async ({ user, params }) => ok(await onSession(user, params.id, (session) => session.withExplorer(completionCatalog))),
    }),
    route({
      method: 'GET',
      path: `${TABLE}/columns`,
      handler: async ({ user, params }) =>
        ok(
          await onSession(user, params.id, (session) =>
            session.withExplorer(async (client) => {
              const rel = await describeRelation(client, params.schema, params.table);
              return {
                columns: rel.columns.map((c) => ({
                  name: c.name,
                  type: c.type,
                  nullable: c.nullable,
                  primaryKeyPosition: c.primaryKeyPosition,
                })),
                kind: rel.kind,
                editable: rel.editable,
                ...(rel.readOnlyReason !== undefined && {
                  readOnlyReason: rel.readOnlyReason,
                }),
              };
            }),
          ),
        ),
    }),
    route({
      method: 'POST',
      path: `${TABLE}/rows`,
      body: rowsBody,
      handler: async ({ user, params, body }) =>
        ok(
          await onSession(user, params.id, (session) =>
            session.withExplorer(async (client) => {
              const rel = await describeRelation(client, params.schema, params.table);
              return readRows(
                client,
                rel,
                {
                  ...body,
                  limit: Math.min(body.limit, web.limits.maxRowsPerResult),
                },
                DEFAULT_CELL_TEXT_LIMIT,
              );
            }),
          ),
        ),
    }),
    route({
      method: 'POST',
      path: `${TABLE}/cell`,
      body: cellBody,
      handler: async ({ user, params, body }) =>
        ok(
          await onSession(user, params.id, (session) =>
            session.withExplorer(async (client) => readCell(client, await describeRelation(client, params.schema, params.table), body.key, body.column)),
          ),
        ),
    }),
    route({
      method: 'POST',
      path: `${TABLE}/changes`,
      body: changesBody,
      handler: async ({ user, params, body }) =>
        ok(
          await onSession(user, params.id, (session) =>
            session.withExplorer(async (client) => {
              const statements = planChanges(await describeRelation(client, params.schema, params.table), body.changes);
              if (body.preview) return { statements: previewStatements(statements) };
              return applyChanges(client, statements);
            }),
          ),
        ),
    }),
    route({
      method: 'GET',
      path: `${TABLE}/export`,
      query: exportQuery,
      handler: async ({ user, params, query }): Promise<Reply> => {
        const session = await web.get(user, params.id);
        const client = await session.connect().catch((err: unknown) => {
          throw toHttpError(err, web.limits.statementTimeoutMs);
        });
        // Read the relation before the first byte: a missing table is a JSON 404, not a cut download.
        const rel = await describeRelation(client, params.schema, params.table).catch(async (err: unknown) => {
          await session.release(client);
          throw toHttpError(err, web.limits.statementTimeoutMs);
        });
        return {
          status: 200,
          body: undefined,
          stream: (res: ServerResponse) =>
            session
              .busy(() =>
                streamExport(
                  client,
                  rel,
                  {
                    format: query.format,
                    filters: query.filters ?? [],
                    sort: query.sort ?? [],
                  },
                  res,
                ),
              )
              .then(() => undefined)
              .finally(() => session.release(client)),
        };
      },
    }),
    route({
      method: 'GET',
      path: `${WEB_SESSIONS_PATH}/history`,
      query: historyQuery,
      handler: async ({ user, query }) => {
        const entries = await s.store.webQueryHistory.list(user.id, query);
        return ok({
          entries: entries.map((e) => ({ ...e, ranAt: e.ranAt.toISOString() })),
        });
      },
    }),
    route({
      method: 'POST',
      path: `${WEB_SESSIONS_PATH}/history`,
      body: historyBody,
      handler: async ({ user, body }) => {
        const session = await s.sessions.get(user, body.sessionId);
        if (session.userId !== user.id || session.kind !== 'web') throw notFound('web session');
        const entry = await s.store.webQueryHistory.add(
          user.id,
          {
            projectId: session.projectId,
            resourceId: session.resourceId,
            accountId: session.accountId,
            sql: body.sql,
          },
          new Date(),
        );
        return created({
          entry: { ...entry, ranAt: entry.ranAt.toISOString() },
        });
      },
    }),
  ];
}
