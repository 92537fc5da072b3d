import type { AccessibleAccount, ProjectInfo } from '../../core/api/types.ts';
import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { formatSeconds, table } from '../format.ts';
import { err, out, type CliIo } from '../io.ts';
import { noProjects, resolveProject } from '../project.ts';

const COMMAND = 'accounts list';

/**
 * `gatehouse accounts list [--project-id P]`: the accounts you may access (or request), with
 * their resource, whether they ask for MFA or approval, and the longest session allowed.
 * Without --project-id and with several projects: every project you may access in.
 */
export async function accountsList(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(COMMAND, argv, { ...COMMON_OPTIONS, 'project-id': { type: 'string' }, json: { type: 'boolean' } });
  const ctx = await openContext(io, COMMAND, values.domain);
  try {
    let projects: (ProjectInfo | { id: string; name?: string })[];
    if (values['project-id'] !== undefined) {
      projects = [await resolveProject(ctx, COMMAND, values['project-id'])];
    } else {
      const mine = await ctx.api.listProjects();
      if (mine.length === 0) throw noProjects(ctx.domain);
      projects = mine.filter((p) => p.role !== 'auditor'); // auditors access nothing
    }
    const rows: { project: { id: string; name?: string }; account: AccessibleAccount }[] = [];
    for (const project of projects) {
      for (const account of await ctx.api.listAccessibleAccounts(project.id)) rows.push({ project, account });
    }
    if (values.json) {
      for (const { project, account } of rows) out(io, JSON.stringify({ ...account, project: { id: project.id, name: project.name } }));
      return 0;
    }
    if (rows.length === 0) {
      out(io, 'No accounts you may access. A project admin grants them with a policy.');
      return 0;
    }
    const several = projects.length > 1;
    out(
      io,
      table(
        [...(several ? ['PROJECT'] : []), 'RESOURCE', 'ACCOUNT', 'DB USER', 'MFA', 'APPROVAL', 'MAX DURATION'],
        rows.map(({ project, account: a }) => [
          ...(several ? [project.name ?? project.id] : []),
          a.resource.name,
          a.name,
          a.username,
          a.requireMfa ? 'required' : '-',
          a.requireApproval ? 'required' : '-',
          a.maxDurationSeconds ? formatSeconds(a.maxDurationSeconds) : '-',
        ]),
      ),
    );
    const first = rows[0];
    const projectFlag = several ? ` --project-id ${first.project.name ?? first.project.id}` : '';
    err(io, `\nStart a session: gatehouse db access --resource ${first.account.resource.name} --account ${first.account.name}${projectFlag}`);
    return 0;
  } finally {
    await ctx.api.close();
  }
}
