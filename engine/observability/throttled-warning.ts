/**
 * A warning about something that may happen thousands of times a minute under attack (calls
 * from forged addresses that never ACK): logged at most once per period, with how many times it
 * happened since the last line. The first occurrence is logged at once.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

export class ThrottledWarning {
  #unwarned = 0;
  #warnedAtMs = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly everyMs = 60_000
  ) {}

  /** One more occurrence; `details` (of the latest) go with the line when one is due. */
  note(details: object): void {
    this.#unwarned++;
    const now = performance.now();
    if (now - this.#warnedAtMs < this.everyMs) return;
    this.logger.warn({ ...details, count: this.#unwarned }, this.message);
    this.#unwarned = 0;
    this.#warnedAtMs = now;
  }
}
