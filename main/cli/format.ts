/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = widen(
    header.map((h) => h.length),
    rows,
  );
  return [header, ...rows].map((cells) => tableLine(cells, widths)).join('\n');
}

/**
 * A table printed page by page, for listings too long to hold: only one page is in memory.
 * The header goes out with the first page; columns widen when a later page has wider cells.
 */
export class PagedTable {
  #widths: number[];
  #started = false;

  constructor(
    private readonly header: string[],
    private readonly write: (text: string) => void,
  ) {
    this.#widths = header.map((h) => h.length);
  }

  /** True until a page with rows was printed. */
  get empty(): boolean {
    return !this.#started;
  }

  add(rows: string[][]): void {
    if (rows.length === 0) return;
    this.#widths = widen(this.#widths, rows);
    const lines = rows.map((cells) => tableLine(cells, this.#widths));
    if (!this.#started) lines.unshift(tableLine(this.header, this.#widths));
    this.#started = true;
    this.write(lines.join('\n'));
  }
}

function widen(widths: number[], rows: string[][]): number[] {
  return widths.map((w, i) => Math.max(w, ...rows.map((r) => (r[i] ?? '').length)));
}

function tableLine(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** One line, whitespace collapsed, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function localTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** 3600 → '1h', 5400 → '90m', 45 → '45s'. */
export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
