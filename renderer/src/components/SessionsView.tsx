import { memo, useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useCommitCount } from '../lib/render-count.ts';
import { sessionSelectors, useSessionsStore } from '../store/sessions.ts';
import { uiSelectors, useUiStore } from '../store/ui.ts';
import { SessionPanel } from './SessionPanel.tsx';
import { StateDot, TimeLeft, describeSession } from './SessionState.tsx';

export function SessionsView() {
  const ids = useSessionsStore(useShallow(sessionSelectors.ids));
  const selected = useUiStore(uiSelectors.selectedSessionId);
  useCommitCount('SessionsView');
  const current = selected && ids.includes(selected) ? selected : ids[0];

  useEffect(() => {
    if (current !== selected) useUiStore.getState().selectSession(current);
  }, [current, selected]);

  if (ids.length === 0) {
    return (
      <section aria-labelledby="sessions-title">
        <header className="view-header">
          <h2 id="sessions-title">Sessions</h2>
        </header>
        <p className="empty">
          No sessions yet. Pick an account and click <strong>Access</strong>.
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="sessions-title" className="sessions">
      <header className="view-header">
        <h2 id="sessions-title">Sessions</h2>
      </header>
      <div className="split">
        <ul className="session-list" role="listbox" aria-label="Sessions">
          {ids.map((id) => (
            <SessionRow key={id} id={id} selected={id === current} />
          ))}
        </ul>
        {current && <SessionPanel id={current} />}
      </div>
    </section>
  );
}

/** One row; subscribes to its own session only, so other sessions' updates skip it. */
const SessionRow = memo(function SessionRow({ id, selected }: { id: string; selected: boolean }) {
  const s = useSessionsStore(sessionSelectors.byId(id));
  useCommitCount(`SessionRow:${id}`);
  if (!s) return null;
  const shown = describeSession(s);
  return (
    <li
      role="option"
      data-session-id={id}
      aria-selected={selected}
      tabIndex={0}
      className={selected ? 'session-row selected' : 'session-row'}
      onClick={() => useUiStore.getState().selectSession(id)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          useUiStore.getState().selectSession(id);
        }
      }}
    >
      <div className="row-title">
        <StateDot state={shown.state} /> {s.resourceName} / {s.accountName}
      </div>
      <div className="muted small">
        :{s.port} · {s.connections} conn · {shown.state === 'ready' ? <TimeLeft expiresAt={s.expiresAt} /> : shown.label}
      </div>
    </li>
  );
});
