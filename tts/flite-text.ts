/**
 * Text as Flite's English front end can take it: ASCII. Flite reads its text as bytes, and a run
 * of non-ASCII ones makes it read past its own memory ("memory access out of bounds"): measured
 * 2026-12-07 with 'é' 32 times, 'Иван' 8 times, 'X' with four combining accents 4 times, or
 * U+FDFA after NFKC, each from a caller's display name. Latin letters lose their accents (Zoë
 * Łukasz is said "Zoe Lukasz"), and anything else non-ASCII, which its English voices say
 * nothing for anyway, becomes a space.
 */

/** Latin letters that Unicode does not decompose into a base letter and marks. */
const FOLDED: Readonly<Record<string, string>> = {
  ł: 'l',
  Ł: 'L',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  þ: 'th',
  Þ: 'Th',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H'
};

export function fliteText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^\p{ASCII}]/gu, (c) => FOLDED[c] ?? ' ');
}
