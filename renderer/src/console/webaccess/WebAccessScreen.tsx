/**
 * A web session's screen (loaded on demand, apart from the console's first load): the
 * header (resource, account, time left, the two views, End session) and the Data Explorer
 * or the SQL terminal. The session's status is watched; when it is revoked, expires or idles
 * out, the user is taken back to My access with the reason.
 */
import { useCallback, useEffect, useState } from 'react';
import { formatTimeLeft } from '../../shared/format.ts';
import { ApiError } from '../api.ts';
import { Link } from '../components/ui.tsx';
import { useRoute } from '../store/route.ts';
import { ENDED_CODES, webApi, type WebSessionInfo } from './client.ts';
import { DataExplorer } from './DataExplorer.tsx';
import { SqlTerminal } from './SqlTerminal.tsx';
import { endedMessage, useWebSessions, viewPath, type EndedCheck, type WebView } from './store.ts';
import './webaccess.css';

const STATUS_POLL_MS = 2000;

export function WebAccessScreen({ id, view }: { id: string; view: WebView }) {
  const info = useWebSessions((s) => s.sessions[id]);
  useEffect(() => {
    if (!info) useRoute.getState().navigate('/access');
  }, [info]);
  if (!info) return null;
  return <Session info={info} view={view} />;
}

function leave(id: string, reason: string, message?: string): void {
  useWebSessions.getState().end(id, endedMessage(reason, message));
  useRoute.getState().navigate('/access');
}

function Session({ info, view }: { info: WebSessionInfo; view: WebView }) {
  const [now, setNow] = useState(() => Date.now());
  const [ending, setEnding] = useState(false);

  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      setNow(Date.now());
      try {
        const { session } = await webApi.session(info.sessionId);
        if (!stopped && session.status !== 'active') leave(info.id, session.status);
      } catch (err) {
        if (!stopped && err instanceof ApiError && err.status === 404) leave(info.id, 'ended');
      }
    };
    const t = setInterval(() => void tick(), STATUS_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [info.id, info.sessionId]);

  const onError: EndedCheck = useCallback(
    (err: unknown) => {
      if (err instanceof ApiError && (err.status === 410 || ENDED_CODES.has(err.code) || (err.status === 404 && /web session/i.test(err.message)))) {
        const text = `${err.code} ${err.message}`;
        const reason = /revoked/i.test(text)
          ? 'revoked'
          : /expired/i.test(text)
            ? 'expired'
            : /idle/i.test(text)
              ? 'idle'
              : err.code === 'GATEHOUSE_ERR_WEB_SESSION_ELSEWHERE'
                ? 'elsewhere'
                : 'ended';
        leave(info.id, reason, err.message);
        return true;
      }
      return false;
    },
    [info.id],
  );

  const endSession = async () => {
    setEnding(true);
    await webApi.end(info.id).catch(() => undefined);
    useWebSessions.getState().remove(info.id);
    useRoute.getState().navigate('/access');
  };

  return (
    <section className="webaccess" aria-labelledby="web-title">
      <div className="view-header web-header">
        <h1 id="web-title">{view === 'explorer' ? 'Data Explorer' : 'SQL terminal'}</h1>
        <span className="web-target">
          {info.resource.name} <span className="muted">as</span> {info.account.name}
          {info.account.username && (
            <>
              {' '}
              (<code>{info.account.username}</code>)
            </>
          )}
        </span>
        <span className="muted small web-left" title={`Ends at ${new Date(info.expiresAt).toLocaleString()}`}>
          ends in {formatTimeLeft(info.expiresAt, now)}
        </span>
        <nav className="web-views" aria-label="Web Access views">
          <Link to={viewPath(info.id, 'explorer')} className={view === 'explorer' ? 'current' : undefined}>
            Data Explorer
          </Link>
          <Link to={viewPath(info.id, 'terminal')} className={view === 'terminal' ? 'current' : undefined}>
            SQL terminal
          </Link>
          <Link to={`/sessions/${info.sessionId}`}>Session log</Link>
        </nav>
        <button type="button" className="danger" onClick={() => void endSession()} disabled={ending}>
          End session
        </button>
      </div>
      {view === 'explorer' ? (
        <DataExplorer info={info} onError={onError} />
      ) : (
        <SqlTerminal info={info} onEnded={(reason, message) => leave(info.id, reason, message)} onError={onError} />
      )}
    </section>
  );
}
