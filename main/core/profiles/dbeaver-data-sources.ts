/**
 * DBeaver's workspace connection list (`.dbeaver/data-sources.json`, read by DBeaver's
 * DataSourceSerializerModern): `{ folders, connections: { id: { provider, driver, name,
 * folder, configuration: { host, port, database, url, configurationType, type, auth-model,
 * user } } } }`. Gatehouse writes only its own connections (ids `gatehouse-…`) in a
 * "Gatehouse" folder and keeps everything else in the file as it was.
 */
import { z } from 'zod';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { readJsonFile } from '../json-file.ts';
import { writeTextFileAtomic } from './atomic-text.ts';

export const DBEAVER_FOLDER = 'Gatehouse';

export interface DbeaverEntry {
  id: string;
  name: string;
  description: string;
  host: string;
  port: number;
  database: string;
  user: string;
}

const connection = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  configuration: z
    .looseObject({
      host: z.string().optional(),
      port: z.string().optional(),
      database: z.string().optional(),
      user: z.string().optional(),
    })
    .optional(),
});
const dataSources = z.looseObject({
  folders: z.record(z.string(), z.unknown()).optional(),
  connections: z.record(z.string(), connection).optional(),
});
export type DataSources = z.infer<typeof dataSources>;

export async function readDataSources(path: string): Promise<DataSources> {
  const raw = await readJsonFile(path);
  if (raw === undefined) return { folders: {}, connections: {} };
  const parsed = dataSources.safeParse(raw);
  if (!parsed.success) throw new GatehouseError(ErrorCodes.CONFIG, `${path} is not a DBeaver data-sources file Gatehouse understands; it was left as it is`);
  return parsed.data;
}

export function withDbeaverConnection(doc: DataSources, entry: DbeaverEntry): DataSources {
  return {
    ...doc,
    folders: { ...doc.folders, [DBEAVER_FOLDER]: doc.folders?.[DBEAVER_FOLDER] ?? {} },
    connections: {
      ...doc.connections,
      [entry.id]: {
        provider: 'postgresql',
        driver: 'postgres-jdbc',
        name: entry.name,
        description: entry.description,
        'save-password': true,
        folder: DBEAVER_FOLDER,
        configuration: {
          host: entry.host,
          port: String(entry.port),
          database: entry.database,
          url: `jdbc:postgresql://${entry.host}:${entry.port}/${entry.database}`,
          configurationType: 'MANUAL',
          type: 'dev',
          'auth-model': 'native',
          user: entry.user,
        },
      },
    },
  };
}

export function withoutDbeaverConnection(doc: DataSources, id: string): DataSources {
  if (!doc.connections?.[id]) return doc;
  const { [id]: _gone, ...connections } = doc.connections;
  const folderUsed = Object.values(connections).some((c) => (c as { folder?: unknown }).folder === DBEAVER_FOLDER);
  const { [DBEAVER_FOLDER]: _folder, ...otherFolders } = doc.folders ?? {};
  return { ...doc, connections, folders: folderUsed ? doc.folders : otherFolders };
}

export async function writeDataSources(path: string, doc: DataSources): Promise<void> {
  await writeTextFileAtomic(path, `${JSON.stringify(doc, null, '\t')}\n`, 0o600);
}
