/**
 * Plays a room's announcements one after another, never overlapping: a FIFO of the room's
 * 'announce' events for the integrator's prompt player. The player takes the next one when
 * it is idle (`take()`), plays its parts in order, and calls `finish()`; 'ready' tells an
 * idle player that something was queued.
 *
 * An entry announcement still waiting when its party leaves is dropped (announcing a
 * party that already left is wrong); exit announcements stay. When the room is destroyed
 * the queue empties and closes itself, releasing its listeners on the room. At most
 * `maxPending` wait; beyond that the oldest is dropped (counted), so a burst of joins
 * cannot build an ever longer backlog.
 */
import { SafeEmitter } from '../util/safe-emitter.js';
import type { Party } from './party.js';
import type { AnnounceEvent, ConferenceRoom } from './room.js';

export interface AnnouncementQueueOptions {
  maxPending?: number;
}

export class AnnouncementQueue extends SafeEmitter<{ ready: [] }> {
  readonly #room: ConferenceRoom;
  readonly #maxPending: number;
  readonly #pending: AnnounceEvent[] = [];
  #current: AnnounceEvent | undefined;
  #dropped = 0;
  #closed = false;

  readonly #onAnnounce = (announcement: AnnounceEvent): void => this.#enqueue(announcement);
  readonly #onPartyLeft = ({ party }: { party: Party }): void => this.#dropEntriesOf(party);
  readonly #onDestroyed = (): void => this.close();

  constructor(room: ConferenceRoom, options: AnnouncementQueueOptions = {}) {
    super();
    const { maxPending = 32 } = options;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${maxPending}`);
    this.#room = room;
    this.#maxPending = maxPending;
    if (room.destroyed) {
      this.#closed = true;
      return;
    }
    room.on('announce', this.#onAnnounce);
    room.on('partyLeft', this.#onPartyLeft);
    room.on('destroyed', this.#onDestroyed);
  }

  /** The announcement being played, if any. */
  get current(): AnnounceEvent | undefined {
    return this.#current;
  }

  /** Announcements waiting behind the current one. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Announcements dropped because too many were waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next announcement to play, or undefined when one is still playing or none waits. */
  take(): AnnounceEvent | undefined {
    if (this.#current !== undefined) return undefined;
    this.#current = this.#pending.shift();
    return this.#current;
  }

  /** The current announcement has finished (or was cut short); emits 'ready' if another waits. */
  finish(): void {
    if (this.#current === undefined) return;
    this.#current = undefined;
    if (this.#pending.length > 0) this.safeEmit('ready');
  }

  /** Empties the queue and stops listening to the room. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#current = undefined;
    this.#room.off('announce', this.#onAnnounce);
    this.#room.off('partyLeft', this.#onPartyLeft);
    this.#room.off('destroyed', this.#onDestroyed);
    this.removeAllListeners();
  }

  #enqueue(announcement: AnnounceEvent): void {
    if (this.#pending.length >= this.#maxPending) {
      this.#pending.shift();
      this.#dropped++;
    }
    this.#pending.push(announcement);
    if (this.#current === undefined && this.#pending.length === 1) this.safeEmit('ready');
  }

  #dropEntriesOf(party: Party): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const announcement = this.#pending[i];
      if (announcement.party === party && announcement.kind === 'entry') this.#pending.splice(i, 1);
    }
  }
}
