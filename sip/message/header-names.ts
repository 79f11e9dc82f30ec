/**
 * Header names: compact forms (RFC 3261 §7.3.3, §20) expanded, case-insensitive lookup keys,
 * and the headers that may appear at most once in a message (§7.3.1, RFC 4475 §3.3.8).
 */

// Maps, not object literals: a header named `constructor` or `__proto__` must not find Object's own.
const COMPACT = new Map<string, string>([
  ['i', 'Call-ID'],
  ['m', 'Contact'],
  ['e', 'Content-Encoding'],
  ['l', 'Content-Length'],
  ['c', 'Content-Type'],
  ['f', 'From'],
  ['s', 'Subject'],
  ['k', 'Supported'],
  ['t', 'To'],
  ['v', 'Via'],
  ['o', 'Event'],
  ['r', 'Refer-To'],
  ['u', 'Allow-Events'],
  ['b', 'Referred-By'],
  ['x', 'Session-Expires'],
  ['y', 'Identity'],
  ['n', 'Identity-Info']
]);

const CANONICAL = new Map<string, string>([
  ['call-id', 'Call-ID'],
  ['cseq', 'CSeq'],
  ['www-authenticate', 'WWW-Authenticate'],
  ['mime-version', 'MIME-Version']
]);

/** Lookup key of a header name: compact forms expanded, lower case. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  const full = COMPACT.get(lower);
  return full ? full.toLowerCase() : lower;
}

/** The name as this stack writes it (`call-id` → `Call-ID`, `v` → `Via`). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const known = COMPACT.get(lower) ?? CANONICAL.get(lower);
  if (known !== undefined) return known;
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** Headers whose grammar allows one value only (a second one makes the request invalid). */
export const SINGLE_VALUE_HEADERS = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires'
]);
