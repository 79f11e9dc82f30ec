/** Waiting in end-to-end tests: real time passes while real packets flow. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it holds; throws after `ms` (generous: a loaded host is slow, and a condition that holds returns at once). */
export async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`condition not reached within ${ms} ms`);
    await sleep(20);
  }
}

/** Like `waitFor`, for a check that must ask something (Redis, a child process): every 50 ms until it holds. */
export async function waitForAsync(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not reached within ${ms} ms`);
    await sleep(50);
  }
}
