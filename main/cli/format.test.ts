import { describe, expect, it } from 'vitest';
import { PagedTable, table } from './format.ts';

describe('tables', () => {
  it('table pads every column but the last to its widest cell', () => {
    expect(
      table(
        ['A', 'LONG'],
        [
          ['xyz', '1'],
          ['q', '22'],
        ],
      ),
    ).toBe(['A    LONG', 'xyz  1', 'q    22'].join('\n'));
  });

  it('PagedTable prints the header once, page by page, and widens columns for wider later cells', () => {
    const printed: string[] = [];
    const listing = new PagedTable(['A', 'B'], (text) => printed.push(text));
    expect(listing.empty).toBe(true);
    listing.add([]);
    expect(printed).toEqual([]);
    listing.add([['x', '1']]);
    listing.add([['wider', '2']]);
    expect(listing.empty).toBe(false);
    expect(printed).toEqual(['A  B\nx  1', 'wider  2']);
  });
});
