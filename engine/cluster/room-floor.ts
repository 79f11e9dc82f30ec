/**
 * A room's announcement floor across the cluster: the room's engines take turns to sound, as one
 * engine's queue plays one announcement after the other. The floor is a key in the directory
 * with a short expiry (TAKE_FLOOR_SCRIPT), taken before an announcement begins, renewed while it
 * plays and given up when it ends. An engine refused asks again every `pollMs` (it is next in
 * line meanwhile). A holder that dies stops renewing: its floor expires after `ttlMs` and the
 * others play on. When the directory does not answer, the engine plays as if it held the floor
 * (a room served locally): an announcement may overlap another node's then, but never waits for
 * good.
 */
import type { Logger } from 'pino';
import type { AnnouncementFloor } from '../media/announcement-queue.js';

/** What the floor needs of the directory (RoomDirectory's). */
export interface FloorDirectory {
  takeFloor(room: string, ttlMs: number): Promise<boolean>;
  releaseFloor(room: string): Promise<void>;
}

export interface RoomFloorOptions {
  directory: FloorDirectory;
  room: string;
  /** How long the floor outlives its holder's last renewal (ms). */
  ttlMs: number;
  /** How often a refused engine asks again (ms). */
  pollMs: number;
  logger: Logger;
}

export class RoomFloor implements AnnouncementFloor {
  private state: 'free' | 'asking' | 'held' = 'free';
  /** Counts asks begun and releases: an answer to an older one is stale. */
  private generation = 0;
  /** The current ask has been refused at least once: another engine sounded. */
  private refused = false;
  private granted: ((afterOther: boolean) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RoomFloorOptions) {}

  take(granted: (afterOther: boolean) => void): boolean {
    if (this.closed || this.state === 'held') return true;
    this.granted = granted;
    if (this.state === 'free') {
      this.state = 'asking';
      this.refused = false;
      this.ask();
    }
    return false;
  }

  release(): void {
    if (this.state === 'free') return;
    this.state = 'free';
    this.generation++;
    this.granted = undefined;
    this.clearTimer();
    // After any take still in flight on the same connection, which it undoes if it was granted.
    this.options.directory
      .releaseFloor(this.options.room)
      .catch((error: unknown) =>
        this.options.logger.debug({ err: error }, 'announcement floor not released')
      );
  }

  /** Gives the floor up for good: `take` answers true from now on, and no timer is left. */
  close(): void {
    this.release();
    this.closed = true;
  }

  private ask(): void {
    const generation = ++this.generation;
    const { directory, room, ttlMs } = this.options;
    directory.takeFloor(room, ttlMs).then(
      (mine) => this.answered(generation, mine),
      (error: unknown) => {
        this.options.logger.debug({ err: error }, 'announcement floor unknown: playing without it');
        this.answered(generation, true);
      }
    );
  }

  private answered(generation: number, mine: boolean): void {
    if (generation !== this.generation || this.state !== 'asking') return;
    if (!mine) {
      this.refused = true;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.state === 'asking') this.ask();
      }, this.options.pollMs);
      return;
    }
    this.state = 'held';
    const { directory, room, ttlMs } = this.options;
    this.timer = setInterval(
      () => {
        directory.takeFloor(room, ttlMs).catch(() => undefined);
      },
      Math.max(50, Math.floor(ttlMs / 3))
    );
    const granted = this.granted;
    this.granted = undefined;
    granted?.(this.refused);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
