import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The product version (package.json's `version`), printed by every CLI's `--version`. */
export function productVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
