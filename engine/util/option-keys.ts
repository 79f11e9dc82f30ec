/**
 * One check for every options object of the public API: each key must be one the API reads, at
 * every depth, so a misspelled option (`access.sip.allowed`, `stopByeWaitMS`) fails where it is
 * given instead of being ignored. The known keys come from a table per options type, written as
 * `{ ... } satisfies OptionKeys<X>`: the type-checker then fails when a key is added to `X` and
 * not to its table, or the other way round. Values are checked by whoever reads them; this check
 * only also requires that a nested table is given an object, a list an array and a `signal` an
 * AbortSignal (one that is not fails deep inside, after the call has begun changing state).
 */
import { InvalidArgumentError } from '../errors.js';

/** A value this check does not look into: a number, a string, a function, another library's object. */
export const ANY = 'any';

/** An `AbortSignal` (`checkAbortSignal`). */
export const ABORT_SIGNAL = 'abortSignal';

/** A list whose every entry has `item`'s shape. */
export class ListOf {
  constructor(readonly item: OptionShape) {}
}

/** An object with these keys, or a value of another kind (`false`, `true`, a number) checked elsewhere. */
export class ObjectOrOther {
  constructor(readonly table: OptionTable) {}
}

export type OptionShape = typeof ANY | typeof ABORT_SIGNAL | OptionTable | ListOf | ObjectOrOther;
export interface OptionTable {
  readonly [key: string]: OptionShape;
}

/** The object part of an option's type: `{ ... } | false` → `{ ... }`. */
type ObjectPart<T> = Exclude<NonNullable<T>, boolean | number | string | readonly unknown[]>;

/** The table of `T`'s keys: exactly `T`'s keys (`satisfies` refuses a missing or an extra one). */
export type OptionKeys<T> = Record<keyof ObjectPart<T>, OptionShape>;

/**
 * Throws `InvalidArgumentError` naming the full path of the first unknown key in `value`, with
 * the known key it was probably meant to be ("unknown option access.sip.allowed (did you mean
 * allow?)"), or a `TypeError` where a table is given a non-object or a list a non-array.
 * `where` prefixes the message (a method's name) and `path` is where `value` sits.
 */
export function checkOptionKeys(value: unknown, shape: OptionShape, where = '', path = ''): void {
  if (value === undefined || shape === ANY) return;
  const name = path === '' ? 'options' : path;
  const prefix = where === '' ? '' : `${where}: `;
  if (shape === ABORT_SIGNAL) {
    checkAbortSignal(value, `${prefix}${name}`);
    return;
  }
  if (shape instanceof ListOf) {
    if (!Array.isArray(value)) throw new TypeError(`${prefix}${name} must be an array, got ${shown(value)}`);
    value.forEach((item, index) => checkOptionKeys(item, shape.item, where, `${path}[${index}]`));
    return;
  }
  const table = shape instanceof ObjectOrOther ? shape.table : shape;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (shape instanceof ObjectOrOther) return;
    throw new TypeError(`${prefix}${name} must be an object, got ${shown(value)}`);
  }
  const known = Object.keys(table);
  for (const key of Object.keys(value)) {
    const keyPath = path === '' ? key : `${path}.${key}`;
    if (!Object.hasOwn(table, key)) {
      const meant = closestKey(key, known);
      const hint = meant === undefined ? ` (known: ${known.join(', ')})` : ` (did you mean ${meant}?)`;
      throw new InvalidArgumentError(keyPath, `${prefix}unknown option ${keyPath}${hint}`);
    }
    checkOptionKeys((value as Record<string, unknown>)[key], table[key], where, keyPath);
  }
}

/** Throws `TypeError` unless `value` is undefined or an `AbortSignal`; `what` names it in the message. */
function checkAbortSignal(value: unknown, what: string): void {
  if (value !== undefined && !(value instanceof AbortSignal))
    throw new TypeError(`${what} must be an AbortSignal, got ${shown(value)}`);
}

/**
 * The known key nearest to `key` (case ignored, a swap of two letters one edit), if it is near
 * enough: within half its length in edits, or one the start of the other (`burst`, `burstDigits`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const [a, b] = [key.toLowerCase(), candidate.toLowerCase()];
    const distance = editDistance(a, b);
    const nearEnough =
      distance <= Math.max(1, Math.floor(Math.max(a.length, b.length) / 2)) ||
      (Math.min(a.length, b.length) >= 3 && (a.startsWith(b) || b.startsWith(a)));
    if (nearEnough && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** A value as an error message shows it: strings quoted, objects by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value.slice(0, 64)}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
