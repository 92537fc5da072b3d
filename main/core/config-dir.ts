import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the client keeps its settings and (when no keychain works) its secrets:
 * `GATEHOUSE_HOME`, else `$XDG_CONFIG_HOME/gatehouse`, else `~/.config/gatehouse`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GATEHOUSE_HOME) return env.GATEHOUSE_HOME;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'gatehouse');
  return join(homedir(), '.config', 'gatehouse');
}
