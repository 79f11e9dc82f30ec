/**
 * Guessing one account's password from many sources: the per-source lock (invite-admission.ts)
 * lets a thousand addresses make ten guesses each. Wrong answers for one username, from sources
 * not known to that account, are counted together; `failures` of them within the window lock the
 * account for `lockMs` against every source it does not know. A source is known to an account
 * once it answered right for it (for `KNOWN_FOR_MS` after its latest success), so the phones
 * that use the account keep working while it is under attack, and their own wrong answers (a
 * stale password) count against their source only, never lock the account for the others.
 *
 * Memory is bounded: FailureLockout bounds the counted accounts, a username longer than
 * `KEY_CHARS` is counted under its SHA-256, and the known sources keep `KNOWN_PER_ACCOUNT` per
 * account and `maxAccounts` accounts, the least recently successful going first.
 */
import { createHash } from 'node:crypto';
import { FailureLockout, type FailureLockoutLimits } from './failure-lockout.js';

const KNOWN_FOR_MS = 30 * 86_400_000;
const KNOWN_PER_ACCOUNT = 16;
/** Accounts counted, and accounts with known sources, at most (each). */
export const ACCOUNT_KEYS = 10_000;
const KEY_CHARS = 128;

export class AccountLockout {
  readonly #failures: FailureLockout;
  /** account key → source key → ms of its latest right answer; least recently successful first. */
  readonly #known = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(
    limits: FailureLockoutLimits,
    now: () => number,
    readonly maxAccounts = ACCOUNT_KEYS
  ) {
    this.#failures = new FailureLockout(limits, now, maxAccounts);
    this.#now = now;
  }

  get limits(): FailureLockoutLimits {
    return this.#failures.limits;
  }

  /** Accounts with failures, a lock or known sources remembered (for leak checks). */
  get size(): number {
    return this.#failures.size + this.#known.size;
  }

  /** Whether answers for `username` from `source` are refused now. */
  locked(username: string, source: string): boolean {
    const account = accountKey(username);
    return this.#failures.locked(account) && !this.#knows(account, source);
  }

  /** Whether `source` answered right for `username` lately: its answers are neither counted nor locked out. */
  knows(username: string, source: string): boolean {
    return this.#knows(accountKey(username), source);
  }

  /** Counts a wrong answer for `username` from `source`; true when it locked the account (once per lock). */
  fail(username: string, source: string): boolean {
    const account = accountKey(username);
    return !this.#knows(account, source) && this.#failures.fail(account);
  }

  /** Locks `username`'s account from now (a lock counted elsewhere); false when it was locked. */
  lock(username: string): boolean {
    return this.#failures.lock(accountKey(username));
  }

  /** `source` answered right for `username`: it is known to the account from now on. */
  succeeded(username: string, source: string): void {
    const account = accountKey(username);
    let sources = this.#known.get(account);
    if (sources === undefined) {
      if (this.#known.size >= this.maxAccounts) this.#known.delete(this.#known.keys().next().value as string);
      sources = new Map();
    }
    this.#known.delete(account);
    this.#known.set(account, sources);
    sources.delete(source);
    if (sources.size >= KNOWN_PER_ACCOUNT) sources.delete(sources.keys().next().value as string);
    sources.set(source, this.#now());
  }

  #knows(account: string, source: string): boolean {
    const since = this.#known.get(account)?.get(source);
    return since !== undefined && this.#now() - since < KNOWN_FOR_MS;
  }
}

/**
 * Every spelling of a name in one key: a credentials lookup that ignores case (many do) admits
 * `alice`, `ALICE` and `Alice` alike, and each counted on its own gave a guesser its `failures`
 * guesses per spelling (2^5 spellings of a five-letter name). Users differing only in case share
 * a lock, which a guesser could as well cause with the exact spelling.
 */
export function accountKey(username: string): string {
  const name = username.toLowerCase();
  return name.length <= KEY_CHARS ? `=${name}` : `#${createHash('sha256').update(name).digest('hex')}`;
}
