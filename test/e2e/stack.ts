/**
 * The real thing behind the desktop app in e2e tests: embedded PostgreSQL with a sample
 * database, the control plane and an enrolled gateway as real processes, bootstrapped
 * through the real API (the demo's `startStack`, which is what `npm run demo` runs).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './harness.ts';

const NEEDED = ['server/control/cli.ts', 'server/gateway/cli.ts', 'server/demo/stack.ts'];

/** Why the stack cannot start yet (a module still being written), or undefined. */
export const stackMissing: string | undefined = (() => {
  const missing = NEEDED.filter((p) => !existsSync(join(REPO_ROOT, p)));
  return missing.length ? `the server is not in place yet (missing ${missing.join(', ')})` : undefined;
})();

export type { Stack } from '../../server/demo/stack.ts';

export async function startE2eStack() {
  const { startStack } = await import('../../server/demo/stack.ts');
  return startStack({ pgTls: true, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
}
