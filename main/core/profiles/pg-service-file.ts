/**
 * libpq's connection service file (`psql service=NAME`): INI sections of `key=value` lines.
 * Gatehouse edits only the sections it names (`gatehouse-…`) and keeps every other line,
 * comment and section as it was.
 */
import { readFile } from 'node:fs/promises';
import { writeTextFileAtomic } from './atomic-text.ts';

export interface PgServiceEntry {
  name: string;
  host: string;
  port: number;
  dbname: string;
  user: string;
  /** Comment lines (without '#') kept at the top of the section. */
  comments?: string[];
}

const SECTION = /^\s*\[([^\]]+)\]\s*$/;

/** The file's lines split into a preamble and sections, in order. */
function sections(text: string): { name: string | undefined; lines: string[] }[] {
  const out: { name: string | undefined; lines: string[] }[] = [{ name: undefined, lines: [] }];
  for (const line of text.split(/\r?\n/)) {
    const m = SECTION.exec(line);
    if (m) out.push({ name: m[1].trim(), lines: [line] });
    else out.at(-1)!.lines.push(line);
  }
  return out;
}

export async function readPgServiceFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The key=value pairs of one section, or undefined. */
export function pgServiceSection(text: string, name: string): Record<string, string> | undefined {
  const found = sections(text).find((s) => s.name === name);
  if (!found) return undefined;
  const values: Record<string, string> = {};
  for (const line of found.lines.slice(1)) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith('#')) values[m[1]] = m[2]!;
  }
  return values;
}

/** Section names in the file. */
export function pgServiceNames(text: string): string[] {
  return sections(text).flatMap((s) => (s.name === undefined ? [] : [s.name]));
}

/** The text with `entry`'s section written (replaced in place, or appended). */
export function withPgService(text: string, entry: PgServiceEntry): string {
  const body = [
    `[${entry.name}]`,
    ...(entry.comments ?? []).map((c) => `# ${c}`),
    `host=${entry.host}`,
    `port=${entry.port}`,
    `dbname=${entry.dbname}`,
    `user=${entry.user}`,
    'sslmode=disable',
  ];
  const all = sections(text);
  const index = all.findIndex((s) => s.name === entry.name);
  if (index >= 0) {
    const trailingBlank = all[index].lines.at(-1)?.trim() === '' ? [''] : [];
    all[index] = { name: entry.name, lines: [...body, ...trailingBlank] };
  } else {
    const last = all.at(-1)!;
    while (last.lines.length > 0 && last.lines.at(-1)!.trim() === '') last.lines.pop();
    if (all.some((s) => s.lines.length > 0)) last.lines.push('');
    all.push({ name: entry.name, lines: [...body, ''] });
  }
  return join(all);
}

/** The text without the section `name` (unchanged when absent). */
export function withoutPgService(text: string, name: string): string {
  const all = sections(text);
  const kept = all.filter((s) => s.name !== name);
  return kept.length === all.length ? text : join(kept);
}

function join(all: { lines: string[] }[]): string {
  const text = all.flatMap((s) => s.lines).join('\n');
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

export async function writePgServiceFile(path: string, text: string): Promise<void> {
  await writeTextFileAtomic(path, text, 0o600);
}
