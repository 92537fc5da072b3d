/**
 * `gatehouse profiles write|remove|list`: client profiles for an account on its stable local
 * port — `psql service=gatehouse-<resource>-<account>` (pg_service.conf, or PGSERVICEFILE) and
 * a DBeaver connection in the default workspace — so saved clients work in every session.
 */
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { ClientProfiles, profilePaths, type ClientProfile, type ProfileKind } from '../../core/profiles/index.ts';
import { COMMON_OPTIONS, parse, requireString } from '../args.ts';
import { openContext } from '../context.ts';
import { table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { resolveProject } from '../project.ts';

const TARGET_OPTIONS = {
  ...COMMON_OPTIONS,
  resource: { type: 'string' },
  account: { type: 'string' },
  'project-id': { type: 'string' },
  'pg-service': { type: 'boolean' },
  dbeaver: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function kindsOf(values: { 'pg-service'?: boolean; dbeaver?: boolean }): ProfileKind[] | undefined {
  const kinds: ProfileKind[] = [];
  if (values['pg-service']) kinds.push('pg-service');
  if (values.dbeaver) kinds.push('dbeaver');
  return kinds.length > 0 ? kinds : undefined;
}

function print(io: CliIo, profiles: ClientProfile[], json: boolean | undefined, empty: string): void {
  if (json) {
    for (const p of profiles) out(io, JSON.stringify(p));
    return;
  }
  if (profiles.length === 0) {
    out(io, empty);
    return;
  }
  out(
    io,
    table(
      ['KIND', 'NAME', 'RESOURCE', 'ACCOUNT', 'PORT', 'FILE'],
      profiles.map((p) => [p.kind, p.name, p.resource, p.account, String(p.port), p.file]),
    ),
  );
}

export async function profilesWrite(argv: string[], io: CliIo): Promise<number> {
  const command = 'profiles write';
  const { values } = parse(command, argv, TARGET_OPTIONS);
  const resource = requireString(command, values.resource, '--resource');
  const account = requireString(command, values.account, '--account');
  const ctx = await openContext(io, command, values.domain);
  try {
    const project = await resolveProject(ctx, command, values['project-id']);
    const a = (await ctx.api.listAccessibleAccounts(project.id)).find(
      (x) => (x.resource.name === resource || x.resource.id === resource) && (x.name === account || x.id === account),
    );
    if (!a)
      throw new GatehouseError(
        ErrorCodes.NOT_FOUND,
        `no account "${account}" on "${resource}" that you may access in this project ('gatehouse accounts list' shows them)`,
      );
    const port = await ctx.settings.portFor(ctx.domain, project.id, a.resource.name, a.name);
    const written = await new ClientProfiles(profilePaths(io.env)).write(
      { projectId: project.id, resource: a.resource.name, account: a.name, port, database: a.resource.database, username: a.username },
      kindsOf(values),
    );
    print(io, written, values.json, 'Nothing written.');
    if (!values.json && written.some((p) => p.kind === 'pg-service')) {
      out(io, `Connect with: psql service=${written[0].name}   (after 'gatehouse db access --resource ${a.resource.name} --account ${a.name}')`);
    }
    return 0;
  } finally {
    await ctx.api.close();
  }
}

export async function profilesRemove(argv: string[], io: CliIo): Promise<number> {
  const command = 'profiles remove';
  const { values } = parse(command, argv, TARGET_OPTIONS);
  const resource = requireString(command, values.resource, '--resource');
  const account = requireString(command, values.account, '--account');
  const removed = await new ClientProfiles(profilePaths(io.env)).remove({ resource, account }, kindsOf(values));
  print(io, removed, values.json, `No profiles for ${account} on ${resource}.`);
  return 0;
}

export async function profilesList(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse('profiles list', argv, { ...COMMON_OPTIONS, json: { type: 'boolean' } });
  print(io, await new ClientProfiles(profilePaths(io.env)).list(), values.json, 'No client profiles written by Gatehouse.');
  return 0;
}
