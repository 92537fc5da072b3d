import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, ResourceSsl, ResourcesTable } from './schema.ts';
import { conflictOnDuplicate } from './errors.ts';

export interface Resource {
  id: string;
  projectId: string;
  gatewayId: string;
  name: string;
  host: string;
  port: number;
  database: string;
  ssl: ResourceSsl;
  /** The gateway may answer an MD5 password request (SCRAM is always allowed). Instance admins only. */
  allowMd5: boolean;
  /** The gateway may send the password in clear, and then only over verified TLS. Instance admins only. */
  allowCleartext: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ResourceInput = Pick<Resource, 'gatewayId' | 'name' | 'host' | 'port' | 'database' | 'ssl'> &
  Partial<Pick<Resource, 'allowMd5' | 'allowCleartext'>>;

export type ResourcesRepo = ReturnType<typeof createResourcesRepo>;

export function createResourcesRepo(db: Kysely<Database>) {
  return {
    async create(projectId: string, input: ResourceInput): Promise<Resource> {
      const row = await conflictOnDuplicate(`a resource named "${input.name}" already exists in this project`, () =>
        db
          .insertInto('resources')
          .values({
            id: randomUUID(),
            project_id: projectId,
            gateway_id: input.gatewayId,
            name: input.name,
            host: input.host,
            port: input.port,
            database: input.database,
            ssl: JSON.stringify(input.ssl),
            allow_md5: input.allowMd5 ?? false,
            allow_cleartext: input.allowCleartext ?? false,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return toResource(row);
    },
    async update(id: string, patch: Partial<ResourceInput>, now: Date): Promise<Resource | undefined> {
      const row = await conflictOnDuplicate(`a resource named "${patch.name}" already exists in this project`, () =>
        db
          .updateTable('resources')
          .set({
            updated_at: now,
            ...(patch.gatewayId !== undefined && { gateway_id: patch.gatewayId }),
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.host !== undefined && { host: patch.host }),
            ...(patch.port !== undefined && { port: patch.port }),
            ...(patch.database !== undefined && { database: patch.database }),
            ...(patch.ssl !== undefined && { ssl: JSON.stringify(patch.ssl) }),
            ...(patch.allowMd5 !== undefined && { allow_md5: patch.allowMd5 }),
            ...(patch.allowCleartext !== undefined && { allow_cleartext: patch.allowCleartext }),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst(),
      );
      return row && toResource(row);
    },
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('resources').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async findById(id: string): Promise<Resource | undefined> {
      const row = await db.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toResource(row);
    },
    /** By id or by name, within one project. */
    async findInProject(projectId: string, idOrName: string): Promise<Resource | undefined> {
      const row = await db
        .selectFrom('resources')
        .selectAll()
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
        .orderBy((eb) => eb.case().when('id', '=', idOrName).then(0).else(1).end())
        .executeTakeFirst();
      return row && toResource(row);
    },
    async listByProject(projectId: string): Promise<Resource[]> {
      const rows = await db.selectFrom('resources').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
      return rows.map(toResource);
    },
  };
}

function toResource(row: Selectable<ResourcesTable>): Resource {
  return {
    id: row.id,
    projectId: row.project_id,
    gatewayId: row.gateway_id,
    name: row.name,
    host: row.host,
    port: row.port,
    database: row.database,
    ssl: row.ssl,
    allowMd5: row.allow_md5,
    allowCleartext: row.allow_cleartext,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
