/**
 * Tells the cluster that a destroyOnExit party ended a room (`RoomDirectory.markDestroyed`), and
 * keeps trying, with a growing pause, while Redis does not answer: the parties on the other nodes
 * must be retrieved after an outage as they are at once when Redis answers. The directory's
 * marker names the room's instance, so a room of the same name made afterwards is never ended by
 * a late or repeated notice.
 */
import type { Logger } from 'pino';

/** How long the notice keeps trying, and how long the directory's marker lasts once written. */
export const DESTROY_NOTICE_MS = 60000;
const FIRST_RETRY_MS = 250;
const LONGEST_RETRY_MS = 4000;

export class DestroyNotice {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private attempts = 0;
  private readonly giveUpAtMs = performance.now() + DESTROY_NOTICE_MS;

  /** `send` writes the marker and publishes the event; `done` is called once, when it went through, was given up, or closed. */
  constructor(
    private readonly send: () => Promise<void>,
    private readonly log: Logger,
    private readonly done: (notice: DestroyNotice) => void
  ) {
    this.attempt();
  }

  /** Stops trying (the engine is stopping). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.done(this);
  }

  private attempt(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.attempts++;
    this.send().then(
      () => {
        if (this.attempts > 1)
          this.log.info({ attempts: this.attempts }, 'the cluster was told the room was destroyed');
        this.close();
      },
      (error: unknown) => {
        if (this.closed) return;
        const delayMs = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(this.attempts - 1, 8));
        if (performance.now() + delayMs > this.giveUpAtMs) {
          this.log.warn(
            { err: (error as Error).message, attempts: this.attempts },
            'could not tell the cluster the room was destroyed; its other nodes keep their parties'
          );
          this.close();
          return;
        }
        this.log.debug({ err: (error as Error).message }, 'room destruction not told yet; trying again');
        this.timer = setTimeout(() => this.attempt(), delayMs);
      }
    );
  }
}
