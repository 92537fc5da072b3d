import type { SessionEvent, SessionStatus } from '../../core/api/types.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { PagedTable, localTime, oneLine, table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { UsageError } from '../usage-error.ts';

const STATUSES: readonly SessionStatus[] = ['active', 'ended', 'revoked', 'expired'];
const PAGE = 500;

export async function sessionsList(argv: string[], io: CliIo): Promise<number> {
  const command = 'sessions list';
  const { values } = parse(command, argv, {
    ...COMMON_OPTIONS,
    'project-id': { type: 'string' },
    status: { type: 'string' },
    json: { type: 'boolean' },
  });
  const status = values.status as SessionStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, command);
  }
  const ctx = await openContext(io, command, values.domain);
  try {
    const sessions = await ctx.api.listSessions({ projectId: values['project-id'], status });
    if (values.json) {
      for (const s of sessions) out(io, JSON.stringify(s));
      return 0;
    }
    if (sessions.length === 0) {
      out(io, 'No sessions.');
      return 0;
    }
    out(io, table(
      ['ID', 'RESOURCE', 'ACCOUNT', 'USER', 'STATUS', 'CREATED', 'EXPIRES / ENDED'],
      sessions.map((s) => [
        s.id, s.resource.name, s.account.name, s.userEmail, s.status, localTime(s.createdAt),
        localTime(s.status === 'active' ? s.expiresAt : s.endedAt ?? s.expiresAt),
      ]),
    ));
    return 0;
  } finally {
    await ctx.api.close();
  }
}

export async function sessionsLogs(argv: string[], io: CliIo): Promise<number> {
  const command = 'sessions logs';
  const { values, positionals } = parse(command, argv, { ...COMMON_OPTIONS, json: { type: 'boolean' } }, true);
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError('a session id is required: gatehouse sessions logs <session-id>', command);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, command);
  const ctx = await openContext(io, command, values.domain);
  try {
    const listing = new PagedTable(['TIME', 'CONNECTION', 'STATEMENT', 'OUTCOME', 'DURATION'], (text) => out(io, text));
    let after: number | undefined;
    for (;;) {
      const page = await ctx.api.sessionLogs(id, { after, limit: PAGE });
      if (values.json) for (const event of page.events) out(io, JSON.stringify(event));
      else listing.add(page.events.map(eventRow));
      if (page.next === undefined || page.events.length === 0) break;
      after = page.next;
    }
    if (!values.json && listing.empty) out(io, 'No events yet.');
    return 0;
  } finally {
    await ctx.api.close();
  }
}

function eventRow(e: SessionEvent): string[] {
  const time = localTime(e.at);
  const conn = e.connectionId;
  switch (e.type) {
    case 'statement': {
      const outcome = e.outcome.status === 'ok'
        ? `ok${e.outcome.tag ? ` ${e.outcome.tag}` : ''}`
        : `error ${e.outcome.sqlstate}: ${oneLine(e.outcome.message, 60)}`;
      return [time, conn, oneLine(e.sql, 80), outcome, `${e.durationMs.toFixed(1)} ms`];
    }
    case 'connect':
      return [time, conn, `(connect${e.applicationName ? ` ${e.applicationName}` : ''}${e.clientAddress ? ` from ${e.clientAddress}` : ''})`, 'ok', ''];
    case 'connect-failed':
      return [time, conn, '(connect)', `error ${e.sqlstate}: ${oneLine(e.message, 60)}`, ''];
    case 'disconnect':
      return [time, conn, `(disconnect: ${e.reason}, ${e.bytesIn} B in, ${e.bytesOut} B out)`, '', ''];
    default:
      return [time, conn, '', '', ''];
  }
}
