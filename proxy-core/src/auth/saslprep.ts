/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for SCRAM passwords.
 *
 * Mirrors PostgreSQL's `pg_saslprep`: pure ASCII passes unchanged; otherwise map
 * (non-ASCII spaces → ' ', B.1 → nothing), normalize NFKC, refuse prohibited output and
 * bad bidi. On failure the caller uses the raw password, exactly like libpq and the server.
 * Approximations (documented): Node's current Unicode tables stand in for Unicode 3.2
 * (unassigned = \p{Cn}), and RandALCat/LCat are derived from scripts rather than the
 * Bidi_Class tables of RFC 3454.
 */

export type SaslPrepResult = { ok: true; value: string } | { ok: false; reason: string };

type Range = readonly [number, number];

/** B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING: Range[] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];
/** C.1.2: non-ASCII space characters. */
const NON_ASCII_SPACE: Range[] = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
/** C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
const PROHIBITED: Range[] = [
  ...NON_ASCII_SPACE,
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200c, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffd],
  [0x1d173, 0x1d17a],
  [0xe000, 0xf8ff],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
  [0xfdd0, 0xfdef],
  [0xd800, 0xdfff],
  [0x2ff0, 0x2ffb],
  [0x0340, 0x0341],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];

const UNASSIGNED = /\p{Cn}/u;
const RAND_AL = /^(?=\p{L})[\p{sc=Hebrew}\p{sc=Arabic}\p{sc=Syriac}\p{sc=Thaana}\p{sc=Nko}]$/u;
const L_CAT = /^(?=\p{L})[^\p{sc=Hebrew}\p{sc=Arabic}\p{sc=Syriac}\p{sc=Thaana}\p{sc=Nko}]$/u;

function inRanges(cp: number, ranges: Range[]): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

function isNonCharacter(cp: number): boolean {
  return (cp & 0xfffe) === 0xfffe; // C.4: U+xFFFE and U+xFFFF in every plane
}

export function saslprep(input: string): SaslPrepResult {
  if (/^[\x00-\x7f]*$/.test(input)) return { ok: true, value: input };

  let mapped = '';
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, MAPPED_TO_NOTHING)) continue;
    mapped += inRanges(cp, NON_ASCII_SPACE) ? ' ' : ch;
  }
  const value = mapped.normalize('NFKC');
  if (value === '') return { ok: false, reason: 'empty after mapping' };

  const chars = [...value];
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, PROHIBITED) || isNonCharacter(cp)) {
      return { ok: false, reason: `prohibited character U+${cp.toString(16).toUpperCase().padStart(4, '0')}` };
    }
    if (UNASSIGNED.test(ch)) return { ok: false, reason: 'unassigned code point' };
  }

  if (chars.some((c) => RAND_AL.test(c))) {
    if (chars.some((c) => L_CAT.test(c))) return { ok: false, reason: 'mixes right-to-left and left-to-right text' };
    if (!RAND_AL.test(chars[0]) || !RAND_AL.test(chars[chars.length - 1])) {
      return { ok: false, reason: 'right-to-left text must start and end with a right-to-left character' };
    }
  }
  return { ok: true, value };
}

/** SASLprep, or the raw password when it fails (what libpq and PostgreSQL do). */
export function preparePassword(password: string): string {
  const r = saslprep(password);
  return r.ok ? r.value : password;
}
