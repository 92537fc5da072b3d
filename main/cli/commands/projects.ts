import { COMMON_OPTIONS, parse } from '../args.ts';
import { openContext } from '../context.ts';
import { table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { noProjects } from '../project.ts';

/** `gatehouse projects list`: the projects you are in, your role, and the default one. */
export async function projectsList(argv: string[], io: CliIo): Promise<number> {
  const command = 'projects list';
  const { values } = parse(command, argv, { ...COMMON_OPTIONS, json: { type: 'boolean' } });
  const ctx = await openContext(io, command, values.domain);
  try {
    const projects = await ctx.api.listProjects();
    const last = await ctx.settings.getLastProject(ctx.domain);
    const fallback = projects.some((p) => p.id === last) ? last : projects.length === 1 ? projects[0].id : undefined;
    if (values.json) {
      for (const p of projects) out(io, JSON.stringify({ id: p.id, name: p.name, role: p.role, default: p.id === fallback }));
      return 0;
    }
    if (projects.length === 0) throw noProjects(ctx.domain);
    out(
      io,
      table(
        ['ID', 'NAME', 'ROLE', 'DEFAULT'],
        projects.map((p) => [p.id, p.name, p.role, p.id === fallback ? 'yes' : '']),
      ),
    );
    return 0;
  } finally {
    await ctx.api.close();
  }
}
