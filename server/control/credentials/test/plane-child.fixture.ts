/**
 * A control plane as its own process for the crash test: `node --import tsx plane-child.fixture.ts`.
 * Env: DATABASE_URL, GATEHOUSE_ROOT_KEY, PORT, DATA_DIR; BOOTSTRAP=email:password bootstraps
 * on start; KILL_AFTER_ALTER_ROLE=1 sets the test-only fault point that SIGKILLs this process
 * between ALTER ROLE and making the new password current. The fault is a code-level hook
 * (ControlPlaneTestHooks): gatehouse-server has no flag or variable that reaches it.
 */
import { createControlPlane } from '../../app.ts';
import { bootstrap } from '../../bootstrap.ts';

const env = process.env;
const kill = env.KILL_AFTER_ALTER_ROLE === '1';
const plane = createControlPlane(
  {
    dataDir: env.DATA_DIR ?? '.',
    port: Number(env.PORT ?? 0),
    databaseUrl: env.DATABASE_URL,
    rootKeyBase64: env.GATEHOUSE_ROOT_KEY,
    credentialSweepMs: 200,
    rotationRetryBaseMs: 200,
    rotationRetryMaxMs: 1000,
    replicaHeartbeatMs: 500,
  },
  kill ? { rotationFaults: { afterAlterRole: () => void process.kill(process.pid, 'SIGKILL') } } : {},
);
const { listenUrl } = await plane.start();
if (env.BOOTSTRAP) {
  const [email, password] = env.BOOTSTRAP.split(':');
  const result = await bootstrap(plane.store, { email, password, projectName: 'ops' });
  process.stdout.write(`BOOTSTRAP ${JSON.stringify({ projectId: result.projectId })}\n`);
}
process.stdout.write(`READY ${listenUrl}\n`);
process.on('SIGTERM', () => void plane.close().then(() => process.exit(0)));
