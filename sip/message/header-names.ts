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
  ['mime-version', 'MIME-Version'],
  ['min-se', 'Min-SE'] // RFC 4028's spelling: carriers' case-sensitive parsers and greps look for it
]);

/** A header name as this stack writes it (`call-id` → `Call-ID`, `v` → `Via`) and its lookup key (`call-id`, `via`). */
export interface HeaderSpelling {
  readonly name: string;
  readonly key: string;
}

/**
 * Names already seen, by their spelling on the wire. Every message repeats the same dozen, and
 * working each out again (lower case, compact form, the capitalising regular expression) was
 * close to half of parsing one. Bounded: a peer may send any names; past the bound they are
 * worked out each time, as they all were before.
 */
const SEEN = new Map<string, HeaderSpelling>();
const SEEN_MAX = 1024;
/** Longer names are not kept: a thousand 8 kB names would hold 8 MB. */
const SEEN_NAME_MAX = 64;

export function headerSpelling(name: string): HeaderSpelling {
  const seen = SEEN.get(name);
  if (seen !== undefined) return seen;
  const lower = name.toLowerCase();
  const compact = COMPACT.get(lower);
  const spelling: HeaderSpelling = {
    name:
      compact ??
      CANONICAL.get(lower) ??
      lower.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase()),
    key: compact ? compact.toLowerCase() : lower
  };
  if (SEEN.size < SEEN_MAX && name.length <= SEEN_NAME_MAX) SEEN.set(name, spelling);
  return spelling;
}

/** Lookup key of a header name: compact forms expanded, lower case. */
export function headerKey(name: string): string {
  return headerSpelling(name).key;
}

/** The name as this stack writes it (`call-id` → `Call-ID`, `v` → `Via`). */
export function canonicalHeaderName(name: string): string {
  return headerSpelling(name).name;
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
