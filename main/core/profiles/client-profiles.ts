/**
 * Client profiles written for an account (issue 14): a `pg_service.conf` section
 * (`psql service=gatehouse-<resource>-<account>`) and a DBeaver connection, both on the
 * account's stable local port, so saved clients keep working from one session to the next.
 * Only Gatehouse's own entries are written or removed; the rest of each file stays intact.
 */
import { createLogger } from '../../../proxy-core/src/log.ts';
import { readDataSources, withDbeaverConnection, withoutDbeaverConnection, writeDataSources } from './dbeaver-data-sources.ts';
import { pgServiceNames, pgServiceSection, readPgServiceFile, withoutPgService, withPgService, writePgServiceFile } from './pg-service-file.ts';
import type { ProfilePaths } from './profile-paths.ts';

const log = createLogger('profiles');

export type ProfileKind = 'pg-service' | 'dbeaver';
export const PROFILE_KINDS: readonly ProfileKind[] = ['pg-service', 'dbeaver'];

export interface ProfileAccount {
  projectId?: string;
  resource: string;
  account: string;
  port: number;
  database: string;
  username: string;
}

/** A client profile written for an account (psql's service file, DBeaver's workspace). */
export interface ClientProfile {
  kind: ProfileKind;
  /** The service name / DBeaver connection name: `gatehouse-<resource>-<account>`. */
  name: string;
  /** The file it lives in. */
  file: string;
  projectId?: string;
  resource: string;
  account: string;
  host: '127.0.0.1';
  port: number;
  database: string;
  username: string;
}

const HOST = '127.0.0.1';
const PREFIX = 'gatehouse-';
const MARK = /^# gatehouse resource=(\S+) account=(\S+)(?: project=(\S+))?$/m;

/** `gatehouse-<resource>-<account>`, in characters every client accepts in a name. */
export function profileName(resource: string, account: string): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_.]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x';
  return `${PREFIX}${slug(resource)}-${slug(account)}`;
}

export class ClientProfiles {
  readonly #paths: ProfilePaths;

  constructor(paths: ProfilePaths) {
    this.#paths = paths;
  }

  /** Writes (or refreshes) the account's profiles; answers what is now written. */
  async write(a: ProfileAccount, kinds: readonly ProfileKind[] = PROFILE_KINDS): Promise<ClientProfile[]> {
    const name = profileName(a.resource, a.account);
    if (kinds.includes('pg-service')) {
      const text = await readPgServiceFile(this.#paths.pgService);
      const written = withPgService(text, {
        name,
        host: HOST,
        port: a.port,
        dbname: a.database,
        user: a.username,
        comments: [
          `gatehouse resource=${enc(a.resource)} account=${enc(a.account)}${a.projectId ? ` project=${enc(a.projectId)}` : ''}`,
          'written by Gatehouse: the local proxy of this account on its stable port; start access first; no password needed',
        ],
      });
      if (written !== text) await writePgServiceFile(this.#paths.pgService, written);
    }
    if (kinds.includes('dbeaver')) {
      const doc = await readDataSources(this.#paths.dbeaver);
      await writeDataSources(
        this.#paths.dbeaver,
        withDbeaverConnection(doc, {
          id: name,
          name,
          description: dbeaverDescription(a),
          host: HOST,
          port: a.port,
          database: a.database,
          user: a.username,
        }),
      );
    }
    log.info({ name, kinds, port: a.port }, 'client profiles written');
    return (await this.list()).filter((p) => p.name === name && kinds.includes(p.kind));
  }

  /** Rewrites the profiles that exist for this account (its port or database changed); writes none anew. */
  async refresh(a: ProfileAccount): Promise<ClientProfile[]> {
    const name = profileName(a.resource, a.account);
    const existing = (await this.list()).filter((p) => p.name === name);
    const stale = existing.filter((p) => p.port !== a.port || p.database !== a.database || p.username !== a.username);
    if (stale.length === 0) return existing;
    return this.write(
      a,
      stale.map((p) => p.kind),
    );
  }

  /** Removes the account's profiles; answers what was removed. */
  async remove(a: { resource: string; account: string }, kinds: readonly ProfileKind[] = PROFILE_KINDS): Promise<ClientProfile[]> {
    const name = profileName(a.resource, a.account);
    const removed = (await this.list()).filter((p) => p.name === name && kinds.includes(p.kind));
    if (removed.some((p) => p.kind === 'pg-service')) {
      const text = await readPgServiceFile(this.#paths.pgService);
      await writePgServiceFile(this.#paths.pgService, withoutPgService(text, name));
    }
    if (removed.some((p) => p.kind === 'dbeaver')) {
      const doc = await readDataSources(this.#paths.dbeaver);
      await writeDataSources(this.#paths.dbeaver, withoutDbeaverConnection(doc, name));
    }
    if (removed.length > 0) log.info({ name, kinds: removed.map((p) => p.kind) }, 'client profiles removed');
    return removed;
  }

  /** Every profile Gatehouse wrote, in both files. */
  async list(): Promise<ClientProfile[]> {
    const out: ClientProfile[] = [];
    const text = await readPgServiceFile(this.#paths.pgService);
    for (const name of pgServiceNames(text).filter((n) => n.startsWith(PREFIX))) {
      const v = pgServiceSection(text, name)!;
      const section = text.slice(text.indexOf(`[${name}]`));
      const mark = MARK.exec(section.slice(0, section.indexOf('\n[') >= 0 ? section.indexOf('\n[') : undefined));
      if (!mark) continue; // a section someone else named gatehouse-…: not ours to show
      out.push({
        kind: 'pg-service',
        name,
        file: this.#paths.pgService,
        ...(mark[3] && { projectId: dec(mark[3]) }),
        resource: dec(mark[1]),
        account: dec(mark[2]),
        host: HOST,
        port: Number(v.port),
        database: v.dbname ?? '',
        username: v.user ?? '',
      });
    }
    const doc = await readDataSources(this.#paths.dbeaver).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'could not read the DBeaver workspace');
      return undefined;
    });
    for (const [id, c] of Object.entries(doc?.connections ?? {})) {
      if (!id.startsWith(PREFIX)) continue;
      const m = /^Gatehouse: (.+) \/ (.+?)(?: \(project (\S+)\))?$/.exec(c.description?.split('\n')[0] ?? '');
      if (!m) continue;
      out.push({
        kind: 'dbeaver',
        name: id,
        file: this.#paths.dbeaver,
        ...(m[3] && { projectId: m[3] }),
        resource: m[1],
        account: m[2],
        host: HOST,
        port: Number(c.configuration?.port),
        database: c.configuration?.database ?? '',
        username: c.configuration?.user ?? '',
      });
    }
    return out;
  }
}

function dbeaverDescription(a: ProfileAccount): string {
  return `Gatehouse: ${a.resource} / ${a.account}${a.projectId ? ` (project ${a.projectId})` : ''}\nThe local proxy of this account on its stable port: start access in Gatehouse first; no password needed.`;
}

const enc = (s: string) => encodeURIComponent(s);
const dec = (s: string) => decodeURIComponent(s);
