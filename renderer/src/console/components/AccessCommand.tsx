/** Access on an account: the CLI command exactly as users run it, and the desktop app link. */
import { useState } from 'react';
import { accessCommand, accessLink, type AccessTarget } from '../access-command.ts';
import { CopyField, Dialog } from './ui.tsx';

export type { AccessTarget };

const DURATIONS = ['15m', '1h', '4h', '8h'];

export function AccessDialog({ target, onClose }: { target: AccessTarget; onClose: () => void }) {
  const [duration, setDuration] = useState('1h');
  const domain = window.location.origin;
  return (
    <Dialog title={`Access ${target.resource} as ${target.account}`} onClose={onClose} wide>
      <label>
        Duration
        <select value={duration} onChange={(e) => setDuration(e.target.value)}>
          {DURATIONS.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </label>
      <CopyField id="access-command" label="Command line (after gatehouse login)" value={accessCommand(target, duration, domain)} />
      <p className="muted small">It prints a local PostgreSQL URL for psql or any client; the session ends when the duration is over.</p>
      <p>
        <a className="button-link" href={accessLink(target, duration, domain)}>
          Open in Gatehouse
        </a>{' '}
        <span className="muted small">(the desktop app)</span>
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
