import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientProfiles, profileName } from './client-profiles.ts';
import { profilePaths, type ProfilePaths } from './profile-paths.ts';

const USER_SERVICES = `# my services
[prod]
host=db.example.com
port=5432
dbname=app

[dev]
host=localhost
dbname=dev
`;

/** A DBeaver file as DBeaver itself writes it (tabs, a folder, a connection with extra keys). */
const USER_DBEAVER = {
  folders: { Work: {} },
  connections: {
    'postgres-jdbc-18c2a1b7e2f-5e1d8c4a0b2d3f4e': {
      provider: 'postgresql',
      driver: 'postgres-jdbc',
      name: 'my local pg',
      'save-password': true,
      folder: 'Work',
      configuration: {
        host: 'localhost',
        port: '5432',
        database: 'postgres',
        url: 'jdbc:postgresql://localhost:5432/postgres',
        configurationType: 'MANUAL',
        type: 'dev',
        'auth-model': 'native',
        'provider-properties': {},
      },
    },
  },
  'connection-types': { dev: { name: 'Development', color: '255,255,255', 'auto-commit': true } },
};

const shop = { projectId: 'p1', resource: 'shop', account: 'readonly', port: 54021, database: 'shop', username: 'shop_ro' };

describe('issue 14 item 4: client profiles on real files in a temp HOME', () => {
  let home: string;
  let paths: ProfilePaths;
  let profiles: ClientProfiles;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'gatehouse-profiles-'));
    paths = profilePaths({ HOME: home }, 'linux', home);
    profiles = new ClientProfiles(paths);
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('knows where libpq and DBeaver look on each OS', () => {
    expect(paths).toEqual({
      pgService: join(home, '.pg_service.conf'),
      dbeaver: join(home, '.local/share/DBeaverData/workspace6/General/.dbeaver/data-sources.json'),
    });
    expect(profilePaths({ PGSERVICEFILE: '/x/svc.conf' }, 'linux', home).pgService).toBe('/x/svc.conf');
    expect(profilePaths({}, 'darwin', '/Users/a').dbeaver).toBe('/Users/a/Library/DBeaverData/workspace6/General/.dbeaver/data-sources.json');
    expect(profilePaths({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32', 'C:/Users/a')).toEqual({
      pgService: join('C:/Users/a/AppData/Roaming', 'postgresql', '.pg_service.conf'),
      dbeaver: join('C:/Users/a/AppData/Roaming', 'DBeaverData', 'workspace6', 'General', '.dbeaver', 'data-sources.json'),
    });
  });

  it('writes both into empty files, keeps them current when the port changes, and removes them', async () => {
    const written = await profiles.write(shop);
    expect(written.map((p) => p.kind).sort()).toEqual(['dbeaver', 'pg-service']);
    expect(profileName('shop', 'readonly')).toBe('gatehouse-shop-readonly');
    const service = await readFile(paths.pgService, 'utf8');
    expect(service).toContain('[gatehouse-shop-readonly]\n');
    expect(service).toMatch(/^host=127\.0\.0\.1$/m);
    expect(service).toMatch(/^port=54021$/m);
    expect(service).toMatch(/^dbname=shop$/m);
    expect(service).toMatch(/^user=shop_ro$/m);
    expect((await stat(paths.pgService)).mode & 0o777).toBe(0o600);

    // the port moved: refresh rewrites what exists
    await profiles.refresh({ ...shop, port: 54099 });
    expect((await profiles.list()).map((p) => [p.kind, p.port])).toEqual([
      ['pg-service', 54099],
      ['dbeaver', 54099],
    ]);
    expect(await readFile(paths.pgService, 'utf8')).not.toContain('54021');

    const removed = await profiles.remove(shop);
    expect(removed).toHaveLength(2);
    expect(await profiles.list()).toEqual([]);
    expect(await readFile(paths.pgService, 'utf8')).not.toContain('gatehouse');
  });

  it("merges into the user's own files: every other service, connection, folder and key stays", async () => {
    await writeFile(paths.pgService, USER_SERVICES);
    await mkdir(dirname(paths.dbeaver), { recursive: true });
    await writeFile(paths.dbeaver, JSON.stringify(USER_DBEAVER, null, '\t'));

    await profiles.write(shop);
    await profiles.write({ ...shop, account: 'readwrite', username: 'shop_rw', port: 54022 });
    const service = await readFile(paths.pgService, 'utf8');
    expect(service.startsWith(USER_SERVICES)).toBe(true);
    expect(service).toContain('[gatehouse-shop-readwrite]');

    const doc = JSON.parse(await readFile(paths.dbeaver, 'utf8')) as typeof USER_DBEAVER & {
      connections: Record<string, { folder?: string; configuration: Record<string, unknown> }>;
    };
    expect(doc.connections['postgres-jdbc-18c2a1b7e2f-5e1d8c4a0b2d3f4e']).toEqual(USER_DBEAVER.connections['postgres-jdbc-18c2a1b7e2f-5e1d8c4a0b2d3f4e']);
    expect(doc['connection-types']).toEqual(USER_DBEAVER['connection-types']);
    expect(Object.keys(doc.folders).sort()).toEqual(['Gatehouse', 'Work']);
    // the keys DBeaver's DataSourceSerializerModern reads for a PostgreSQL connection
    expect(doc.connections['gatehouse-shop-readonly']).toMatchObject({
      provider: 'postgresql',
      driver: 'postgres-jdbc',
      name: 'gatehouse-shop-readonly',
      folder: 'Gatehouse',
      'save-password': true,
      configuration: {
        host: '127.0.0.1',
        port: '54021',
        database: 'shop',
        url: 'jdbc:postgresql://127.0.0.1:54021/shop',
        configurationType: 'MANUAL',
        type: 'dev',
        'auth-model': 'native',
        user: 'shop_ro',
      },
    });

    // removing one keeps the other and the folder; removing both drops the folder, the user's things stay
    await profiles.remove(shop);
    await profiles.remove({ resource: 'shop', account: 'readwrite' }, ['dbeaver']);
    const after = JSON.parse(await readFile(paths.dbeaver, 'utf8')) as typeof USER_DBEAVER;
    expect(after).toEqual(USER_DBEAVER);
    expect(await profiles.list()).toMatchObject([{ kind: 'pg-service', name: 'gatehouse-shop-readwrite', port: 54022 }]);
    await profiles.remove({ resource: 'shop', account: 'readwrite' });
    expect(await readFile(paths.pgService, 'utf8')).toBe(USER_SERVICES);
  });

  it('a DBeaver file it does not understand is left alone with a clear error', async () => {
    await mkdir(dirname(paths.dbeaver), { recursive: true });
    await writeFile(paths.dbeaver, '{"connections": [1, 2]}');
    await expect(profiles.write(shop, ['dbeaver'])).rejects.toMatchObject({ code: 'GATEHOUSE_ERR_CONFIG' });
    expect(await readFile(paths.dbeaver, 'utf8')).toBe('{"connections": [1, 2]}');
  });
});
