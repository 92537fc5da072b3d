import { useEffect, useState, type FormEvent } from 'react';
import type { DesktopSettings } from '../../../main/ipc/contract.ts';
import { ipc } from '../ipc.ts';
import { toUiError, type UiError } from '../lib/errors.ts';
import { useUiStore } from '../store/ui.ts';

export function SettingsView() {
  const [settings, setSettings] = useState<DesktopSettings>();
  const [error, setError] = useState<UiError>();
  useEffect(() => {
    ipc['settings.get']().then(setSettings, (e) => setError(toUiError(e)));
  }, []);
  if (!settings) return <p className="muted">{error ? error.message : 'Loading…'}</p>;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      setSettings(
        await ipc['settings.set']({ psqlPath: settings!.psqlPath ?? '', dbeaverPath: settings!.dbeaverPath ?? '', notifications: settings!.notifications }),
      );
      useUiStore.getState().toast({ kind: 'info', title: 'Settings saved' });
    } catch (err) {
      setError(toUiError(err));
    }
  }
  return (
    <section aria-labelledby="settings-title">
      <header className="view-header">
        <h2 id="settings-title">Settings</h2>
      </header>
      <form className="card settings" onSubmit={(e) => void onSubmit(e)}>
        <label>
          psql path <span className="muted small">(empty: found on PATH)</span>
          <input value={settings.psqlPath ?? ''} placeholder="/usr/bin/psql" onChange={(e) => setSettings({ ...settings, psqlPath: e.target.value })} />
        </label>
        <label>
          DBeaver path <span className="muted small">(empty: found in the usual places)</span>
          <input
            value={settings.dbeaverPath ?? ''}
            placeholder="/usr/bin/dbeaver"
            onChange={(e) => setSettings({ ...settings, dbeaverPath: e.target.value })}
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.notifications} onChange={(e) => setSettings({ ...settings, notifications: e.target.checked })} />
          Notify me 5 minutes before a session expires and when one ends
        </label>
        {error && (
          <p className="error" role="alert">
            {error.message}
          </p>
        )}
        <div className="actions left">
          <button type="submit" className="primary">
            Save
          </button>
        </div>
      </form>
    </section>
  );
}
