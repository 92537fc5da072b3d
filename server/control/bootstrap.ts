/** The first admin and the first project, made once on an empty store. */
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './auth/passwords.ts';
import type { Store } from './store/store.ts';

export interface BootstrapResult {
  userId: string;
  email: string;
  projectId: string;
  projectName: string;
}

export async function bootstrap(store: Store, input: { email: string; password: string; projectName: string }): Promise<BootstrapResult> {
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) throw new GatehouseError(ErrorCodes.INVALID_INPUT, `--email must be an email address (got "${input.email}")`);
  if (input.password.length < MIN_PASSWORD_LENGTH)
    throw new GatehouseError(ErrorCodes.INVALID_INPUT, `--password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if ((await store.users.count()) > 0)
    throw new GatehouseError(ErrorCodes.CONFLICT, 'this server is already bootstrapped (a user exists); sign in as the admin instead');
  const user = await store.users.create({ email: input.email, name: input.email, passwordHash: await hashPassword(input.password), isAdmin: true });
  const project = await store.projects.create(input.projectName);
  await store.projects.setMember(project.id, user.id, 'admin');
  await store.auditEvents.record({
    actorId: null,
    actorEmail: null,
    action: 'instance.bootstrap',
    targetType: 'user',
    targetId: user.id,
    sourceAddress: null,
    details: { email: user.email, projectId: project.id },
  });
  return { userId: user.id, email: user.email, projectId: project.id, projectName: project.name };
}
