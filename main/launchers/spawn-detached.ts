import { spawn } from 'node:child_process';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';

/**
 * Starts a GUI program or terminal that outlives us: detached, no stdio, unref'd.
 * Resolves once the OS has started it; a failure to start is CLIENT_LAUNCH_FAILED.
 */
export function spawnDetached(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env, windowsHide: false });
    child.once('error', (err) => {
      reject(new GatehouseError(ErrorCodes.CLIENT_LAUNCH_FAILED, `could not start ${command}: ${err.message}`, { cause: err }));
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
