/** Policies: who may use which accounts for how long; and the organization's MFA setting. */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { uiError, useSession, type UiError } from '../store/session.ts';
import { Dialog, ErrorText } from './ui.tsx';
import type { Group } from './UsersPage.tsx';

interface Policy {
  id: string;
  name: string;
  users: string[];
  groups: string[];
  accounts: string[];
  maxDurationSeconds: number;
}
interface Member {
  userId: string;
  email: string;
}
interface AccountRef {
  id: string;
  label: string;
}

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}

export function PoliciesPage() {
  const projectId = useSession((s) => s.projectId)!;
  const instanceAdmin = useSession((s) => s.me?.isAdmin ?? false);
  const [policies, setPolicies] = useState<Policy[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [accounts, setAccounts] = useState<AccountRef[]>([]);
  const [error, setError] = useState<UiError>();
  const [adding, setAdding] = useState(false);
  const load = async () => {
    try {
      setPolicies((await api<{ policies: Policy[] }>('GET', `/projects/${projectId}/policies`)).policies);
      setMembers((await api<{ members: Member[] }>('GET', `/projects/${projectId}/members`)).members);
      setGroups((await api<{ groups: Group[] }>('GET', `/projects/${projectId}/groups`)).groups);
      const { resources } = await api<{ resources: { id: string; name: string }[] }>('GET', `/projects/${projectId}/resources`);
      const lists = await Promise.all(
        resources.map(async (r) =>
          (await api<{ accounts: { id: string; name: string }[] }>('GET', `/resources/${r.id}/accounts`)).accounts.map((a) => ({
            id: a.id,
            label: `${r.name} / ${a.name}`,
          })),
        ),
      );
      setAccounts(lists.flat());
    } catch (err) {
      setError(uiError(err));
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/set-state-in-effect -- reload on projectId only; load() sets state only after its awaits
  useEffect(() => void load(), [projectId]);
  const name = (list: { id: string; label: string }[], id: string) => list.find((x) => x.id === id)?.label ?? id.slice(0, 8);
  const userLabels = members.map((m) => ({ id: m.userId, label: m.email }));
  const groupLabels = groups.map((g) => ({ id: g.id, label: g.name }));

  return (
    <section aria-labelledby="policies-title">
      <div className="view-header">
        <h1 id="policies-title">Policies</h1>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add policy
        </button>
      </div>
      <p className="muted">
        Members may open sessions on the accounts a policy gives them, directly or through a group, up to its maximum duration. Accounts that need approval are
        set on the account.
      </p>
      <ErrorText error={error} />
      {policies.length === 0 ? (
        <p className="empty">No policy yet: members can use no account.</p>
      ) : (
        <table className="grid" aria-label="Policies">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Who</th>
              <th scope="col">Accounts</th>
              <th scope="col">Longest session</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {policies.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{[...p.users.map((u) => name(userLabels, u)), ...p.groups.map((g) => `group ${name(groupLabels, g)}`)].join(', ')}</td>
                <td>{p.accounts.map((a) => name(accounts, a)).join(', ')}</td>
                <td>{hours(p.maxDurationSeconds)}</td>
                <td className="num">
                  <button
                    type="button"
                    aria-label={`Delete policy ${p.name}`}
                    onClick={() => void api('DELETE', `/policies/${p.id}`).then(load, (err) => setError(uiError(err)))}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {instanceAdmin && <MfaSetting />}
      {adding && (
        <PolicyForm
          projectId={projectId}
          users={userLabels}
          groups={groupLabels}
          accounts={accounts}
          onClose={() => setAdding(false)}
          onSaved={() => {
            setAdding(false);
            void load();
          }}
        />
      )}
    </section>
  );
}

function Picker({ legend, options, chosen, onChange }: { legend: string; options: AccountRef[]; chosen: string[]; onChange: (ids: string[]) => void }) {
  return (
    <fieldset className="plain picker">
      <legend>{legend}</legend>
      {options.length === 0 && <p className="muted small">None yet.</p>}
      {options.map((o) => (
        <label key={o.id} className="check">
          <input
            type="checkbox"
            checked={chosen.includes(o.id)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, o.id] : chosen.filter((x) => x !== o.id))}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

function PolicyForm({
  projectId,
  users,
  groups,
  accounts,
  onClose,
  onSaved,
}: {
  projectId: string;
  users: AccountRef[];
  groups: AccountRef[];
  accounts: AccountRef[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const [name, setName] = useState('');
  const [u, setU] = useState<string[]>([]);
  const [g, setG] = useState<string[]>([]);
  const [a, setA] = useState<string[]>([]);
  const [maxHours, setMaxHours] = useState('8');
  const [error, setError] = useState<UiError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('POST', `/projects/${projectId}/policies`, {
        name: name.trim(),
        users: u,
        groups: g,
        accounts: a,
        maxDurationSeconds: Math.round(Number(maxHours) * 3600),
      });
      onSaved();
    } catch (err) {
      setError(uiError(err));
    }
  };
  return (
    <Dialog title="Add policy" onClose={onClose} wide>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Name
          <input name="name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="form-grid">
          <Picker legend="Users" options={users} chosen={u} onChange={setU} />
          <Picker legend="Groups" options={groups} chosen={g} onChange={setG} />
          <Picker legend="Accounts" options={accounts} chosen={a} onChange={setA} />
        </div>
        <label>
          Longest session (hours)
          <input name="maxHours" type="number" min={0.25} step={0.25} max={720} required value={maxHours} onChange={(e) => setMaxHours(e.target.value)} />
        </label>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Add policy
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function MfaSetting() {
  const [setting, setSetting] = useState<{ enforce: 'none' | 'totp' | 'email'; emailAvailable: boolean }>();
  const [error, setError] = useState<UiError>();
  useEffect(() => {
    void api<typeof setting>('GET', '/settings/mfa').then(setSetting, (err) => setError(uiError(err)));
  }, []);
  const change = (enforce: 'none' | 'totp' | 'email') =>
    void api<typeof setting>('PATCH', '/settings/mfa', { enforce }).then(setSetting, (err) => setError(uiError(err)));
  return (
    <section className="card settings section" aria-labelledby="mfa-title">
      <h2 id="mfa-title">Multi-factor sign-in</h2>
      <p className="muted small">Applies to everyone in this Gatehouse at their next sign-in.</p>
      {setting && (
        <fieldset className="plain">
          <legend className="sr-only">Require a second factor</legend>
          {(['none', 'totp', 'email'] as const).map((v) => (
            <label key={v} className="check">
              <input
                type="radio"
                name="enforce"
                value={v}
                checked={setting.enforce === v}
                disabled={v === 'email' && !setting.emailAvailable}
                onChange={() => change(v)}
              />
              {v === 'none'
                ? 'Optional'
                : v === 'totp'
                  ? 'Require an authenticator app'
                  : `Require an email code${setting.emailAvailable ? '' : ' (SMTP not configured)'}`}
            </label>
          ))}
        </fieldset>
      )}
      <ErrorText error={error} />
    </section>
  );
}
