/**
 * The digest lockouts under a flood of wrong answers from ever new sources (or for ever new
 * usernames): what one more failure costs once the table is full, in a table of the size the
 * engine uses and in one a quarter of it. Each failure runs on the SIP path's event-loop turn,
 * so a cost that grows with the table (a scan per eviction: 1.5 ms per failure at 100,000 keys
 * before it was fixed) would let a flood from many addresses stall every call. A constant cost
 * gives a ratio under 2 (the larger table misses the caches more), a scan 3-10. Over 2.5 is a
 * FAIL; a table over it is measured once more and keeps the better run, as a busy host can bend
 * one run.
 */
import type { BenchReport } from '../report.js';
import { FailureLockout } from '../../sip/admission/failure-lockout.js';
import { AccountLockout, ACCOUNT_KEYS } from '../../sip/admission/account-lockout.js';

const MAX_RATIO = 2.5;
const MEASURED = 20_000;
const LIMITS = { failures: 10, windowMs: 60_000, lockMs: 300_000 };
const SOURCE_KEYS = 100_000;

interface Table {
  name: string;
  keys: number;
  /** A wrong answer for a new key (a source, or a username from its own source). */
  fail(key: string): void;
}

const KINDS: Array<(quarter: boolean) => Table> = [
  (quarter) => {
    const keys = quarter ? SOURCE_KEYS / 4 : SOURCE_KEYS;
    const lockout = new FailureLockout(LIMITS, () => 0, keys);
    return { name: 'per source', keys, fail: (key) => void lockout.fail(key) };
  },
  (quarter) => {
    const keys = quarter ? ACCOUNT_KEYS / 4 : ACCOUNT_KEYS;
    const lockout = new AccountLockout(LIMITS, () => 0, keys);
    return { name: 'per account', keys, fail: (key) => void lockout.fail(key, key) };
  }
];

/** ns per failure of MEASURED new keys into `table` once it is full. */
function nsPerFailureWhenFull(table: Table): number {
  for (let i = 0; i < table.keys; i++) table.fail(`fill-${i}`);
  const started = process.hrtime.bigint();
  for (let i = 0; i < MEASURED; i++) table.fail(`new-${i}`);
  return Number(process.hrtime.bigint() - started) / MEASURED;
}

export async function run(report: BenchReport): Promise<void> {
  for (const make of KINDS) {
    nsPerFailureWhenFull(make(false)); // warm-up
    const table = make(false);
    let smallNs = nsPerFailureWhenFull(make(true));
    let fullNs = nsPerFailureWhenFull(table);
    if (fullNs / smallNs > MAX_RATIO) {
      const smallAgain = nsPerFailureWhenFull(make(true));
      const fullAgain = nsPerFailureWhenFull(make(false));
      if (fullAgain / smallAgain < fullNs / smallNs) [smallNs, fullNs] = [smallAgain, fullAgain];
    }
    const ratio = fullNs / smallNs;
    const pass = ratio <= MAX_RATIO;
    report.add({
      suite: 'lockout-flood',
      name: `${table.name} (${table.keys} keys): one more failure, full table`,
      nsPerFrame: fullNs,
      extra: { quarterTableNs: smallNs, ratio, verdict: pass ? 'PASS' : 'FAIL' }
    });
    console.error(
      `${pass ? 'PASS' : 'FAIL'}  lockout ${table.name}: ${fullNs.toFixed(0)} ns per failure with ${table.keys} keys, ${smallNs.toFixed(0)} ns with a quarter of them (ratio ${ratio.toFixed(2)}, at most ${MAX_RATIO})`
    );
  }
  await Promise.resolve();
}
