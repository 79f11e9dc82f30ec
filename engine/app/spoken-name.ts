/**
 * The caller's name as the room hears it. A display name is whatever the caller's phone (or an
 * attacker) put in From: it can be 2,000 characters long, hold control characters, bidi
 * overrides, zero-width characters or markup a speech engine might act on. Only letters,
 * marks, digits, spaces and `.`, `-`, `'` are kept, runs of anything else become one space, and
 * the result is cut to `maxChars` at a word boundary when there is one, so the announcement
 * stays a name: "George Smith has joined", never a two-minute reading.
 */

/** Longest spoken name, in characters, after cleaning. */
export const SPOKEN_NAME_MAX_CHARS = 32;

/** Nothing past this is looked at: it could never survive the cut, and scanning it costs time. */
const RAW_LIMIT = 256;
/** Markup: a tag, or an entity like `&amp;`; dropped whole, not spoken. */
const MARKUP = /<[^<>]{0,256}>|&[#a-zA-Z0-9]{1,16};/g;
/** Everything that is not a letter, mark, digit, or one of the few marks names use. */
const NOT_NAME = /[^\p{L}\p{M}\p{N} .'-]+/gu;

/** The name to speak for `raw`, or undefined when nothing speakable is left. */
export function spokenName(raw: string | undefined, maxChars = SPOKEN_NAME_MAX_CHARS): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const cleaned = raw
    .slice(0, RAW_LIMIT)
    .normalize('NFKC')
    .replace(MARKUP, ' ')
    .replace(NOT_NAME, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  // Punctuation alone ("...", "-") says nothing.
  if (!/[\p{L}\p{N}]/u.test(cleaned)) return undefined;
  const chars = Array.from(cleaned);
  if (chars.length <= maxChars) return cleaned;
  const cut = chars.slice(0, maxChars).join('');
  const lastSpace = cut.lastIndexOf(' ');
  // Keep whole words when that keeps at least half the allowance.
  return (lastSpace >= maxChars / 2 ? cut.slice(0, lastSpace) : cut).trim();
}
