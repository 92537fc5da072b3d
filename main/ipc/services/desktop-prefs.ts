import { join } from 'node:path';
import { JsonDocument } from '../../core/json-document.ts';

export interface Prefs {
  notifications: boolean;
}

/** Preferences only the desktop app has (the shared ones live in main/core's SettingsStore). */
export class DesktopPrefs {
  readonly #doc: JsonDocument<Prefs>;
  constructor(dir: string) {
    this.#doc = new JsonDocument({ path: join(dir, 'desktop.json'), parse: parsePrefs });
  }
  read(): Promise<Prefs> {
    return this.#doc.read();
  }
  async update(patch: Partial<Prefs>): Promise<void> {
    await this.#doc.update((p) => {
      Object.assign(p, patch);
    });
  }
}

function parsePrefs(raw: unknown): Prefs {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return { notifications: r.notifications !== false };
}
