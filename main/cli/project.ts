import type { ProjectInfo } from '../core/api/types.ts';
import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The project a command works in: `--project-id` (an id, or a project's name), else the
 * last one used here if the user is still in it, else the only project the user is in.
 * Several projects and no flag is a usage error that lists them.
 */
export async function resolveProject(ctx: CliContext, command: string, flag: string | undefined): Promise<ProjectInfo | { id: string }> {
  if (flag !== undefined && UUID.test(flag.trim())) return { id: flag.trim() };
  const projects = await ctx.api.listProjects();
  if (flag !== undefined) {
    const wanted = flag.trim().toLowerCase();
    const found = projects.find((p) => p.id.toLowerCase() === wanted) ?? projects.find((p) => p.name.toLowerCase() === wanted);
    if (!found) throw new UsageError(`no project "${flag}" among yours: ${listed(projects)}`, command);
    return found;
  }
  const last = await ctx.settings.getLastProject(ctx.domain);
  const remembered = projects.find((p) => p.id === last);
  if (remembered) return remembered;
  if (projects.length === 1) return projects[0];
  if (projects.length === 0) throw noProjects(ctx.domain);
  throw new UsageError(`you are in ${projects.length} projects; pick one with --project-id (its id or name): ${listed(projects)}`, command);
}

export function noProjects(domain: string): Error {
  return new Error(`you are not in any project on ${domain} yet; ask an admin to add you to one`);
}

function listed(projects: ProjectInfo[]): string {
  return projects.length === 0 ? '(none)' : projects.map((p) => `${p.name} (${p.id}, ${p.role})`).join(', ');
}
