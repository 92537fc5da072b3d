/** Access on an account: the CLI command exactly as users run it, and the desktop app link. */
import { useState } from 'react';
import { CopyField, Dialog } from './ui.tsx';

export interface AccessTarget { projectId: string; resource: string; account: string; maxDurationSeconds?: number }

const DURATIONS = ['15m', '1h', '4h', '8h'];

export function accessCommand(t: AccessTarget, duration: string, domain: string): string {
  return `gatehouse db access --resource ${shellWord(t.resource)} --account ${shellWord(t.account)} --project-id ${t.projectId} --duration ${duration} --domain ${domain}`;
}

export function accessLink(t: AccessTarget, duration: string, domain: string): string {
  const q = new URLSearchParams({ domain, projectId: t.projectId, resource: t.resource, account: t.account, duration });
  return `gatehouse://access?${q.toString()}`;
}

/** Names may hold spaces: quote them for a POSIX shell. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function AccessDialog({ target, onClose }: { target: AccessTarget; onClose: () => void }) {
  const [duration, setDuration] = useState('1h');
  const domain = window.location.origin;
  return (
    <Dialog title={`Access ${target.resource} as ${target.account}`} onClose={onClose} wide>
      <label>Duration
        <select value={duration} onChange={(e) => setDuration(e.target.value)}>
          {DURATIONS.map((d) => <option key={d} value={d}>{d}</option>)}
        </select>
      </label>
      <CopyField id="access-command" label="Command line (after gatehouse login)" value={accessCommand(target, duration, domain)} />
      <p className="muted small">It prints a local PostgreSQL URL for psql or any client; the session ends when the duration is over.</p>
      <p><a className="button-link" href={accessLink(target, duration, domain)}>Open in Gatehouse</a> <span className="muted small">(the desktop app)</span></p>
      <div className="actions"><button type="button" className="primary" onClick={onClose}>Done</button></div>
    </Dialog>
  );
}
