/**
 * Test entry point: one `gatehouse-server`-like process that starts a control plane with the
 * given flags, bootstraps the test admin into it and prints `{"url","projectId"}` on one line
 * (one process start instead of `bootstrap` then `start`). Runs until SIGTERM.
 */
import { createControlPlane } from '../app.ts';
import { bootstrap } from '../bootstrap.ts';
import { configFromArgs, parseFlags } from '../config.ts';
import { ADMIN } from './helpers.ts';

const { flags } = parseFlags(process.argv.slice(2));
const plane = createControlPlane(configFromArgs(flags, process.env));
const { listenUrl } = await plane.start();
const { projectId } = await bootstrap(plane.store, { ...ADMIN, projectName: 'default' });
process.stdout.write(`${JSON.stringify({ url: listenUrl, projectId })}\n`);
process.once('SIGTERM', () => {
  void plane.close().then(() => process.exit(0));
});
