/**
 * The in-memory room directory of one engine: room name → `ConferenceRoom`, created on the
 * first join and removed the moment the room is destroyed (by `destroyOnExit`, by its last
 * party leaving, or by `close()`), so nothing leaks. Names are validated before anything
 * happens: ASCII letters and digits only (the spec's "alpha-numeric"), case-sensitive, at
 * most `maxNameLength` characters.
 *
 * Joins racing a teardown: a destroyed room leaves the directory before it emits any
 * event, so a join made at any later moment, even from a listener of that teardown,
 * creates a fresh room of the same name. There is no "get or create" without a join, so
 * an empty room can never be left behind.
 */
import { InvalidArgumentError, InvalidStateError } from '../errors.js';
import { describe } from '../dtmf/dtmf-digit.js';
import { SafeEmitter } from '../../sip/index.js';
import { resolvePartyOptions, type Party, type PartyOptions } from './party.js';
import { ConferenceRoom } from './room.js';

const NAME_PATTERN = /^[A-Za-z0-9]+$/;
export const DEFAULT_MAX_ROOM_NAME_LENGTH = 64;

export type RoomRegistryEvents = {
  roomCreated: [{ room: ConferenceRoom }];
  roomRemoved: [{ room: ConferenceRoom }];
};

export interface RoomRegistryOptions {
  maxNameLength?: number;
}

export class RoomRegistry extends SafeEmitter<RoomRegistryEvents> {
  readonly maxNameLength: number;
  readonly #rooms = new Map<string, ConferenceRoom>();
  #closed = false;

  constructor(options: RoomRegistryOptions = {}) {
    super();
    const { maxNameLength = DEFAULT_MAX_ROOM_NAME_LENGTH } = options;
    if (!Number.isInteger(maxNameLength) || maxNameLength < 1) {
      throw new RangeError(`maxNameLength must be a positive integer, got ${maxNameLength}`);
    }
    this.maxNameLength = maxNameLength;
  }

  /**
   * Throws unless `name` is a valid room name: `TypeError` for a non-string,
   * `InvalidArgumentError` for an empty, too long or non-alphanumeric one.
   */
  validateName(name: unknown): string {
    if (typeof name !== 'string') throw new TypeError(`room name must be a string, got ${describe(name)}`);
    if (name.length === 0)
      throw new InvalidArgumentError('conferenceRoomName', 'room name must not be empty');
    if (name.length > this.maxNameLength) {
      throw new InvalidArgumentError(
        'conferenceRoomName',
        `room name '${name.slice(0, 16)}…' is ${name.length} characters, at most ${this.maxNameLength} allowed`
      );
    }
    if (!NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(
        'conferenceRoomName',
        `room name '${name}' must be alphanumeric (A-Z, a-z, 0-9)`
      );
    }
    return name;
  }

  /** Adds a party to the room called `name`, creating the room if it does not exist. */
  join(name: string, options: PartyOptions = {}): { room: ConferenceRoom; party: Party } {
    this.validateName(name);
    resolvePartyOptions(options); // bad options must not leave an empty room behind
    if (this.#closed) throw InvalidStateError.forState('room registry', 'closed', ['open'], 'join');
    const room = this.#rooms.get(name) ?? this.#create(name);
    return { room, party: room.join(options) };
  }

  /** The live room called `name`, if any. */
  get(name: string): ConferenceRoom | undefined {
    return this.#rooms.get(name);
  }

  has(name: string): boolean {
    return this.#rooms.has(name);
  }

  /** Live rooms, in creation order. */
  rooms(): ConferenceRoom[] {
    return [...this.#rooms.values()];
  }

  get size(): number {
    return this.#rooms.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Destroys every room (their parties leave with 'roomDestroyed') and refuses joins. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const room of this.rooms()) room.close();
  }

  #create(name: string): ConferenceRoom {
    // The directory forgets a room the moment it becomes destroyed, before it emits any
    // event of its teardown, so a join from one of those listeners gets a fresh room.
    const room = new ConferenceRoom(name, {
      onDestroy: () => {
        if (this.#rooms.get(name) !== room) return;
        this.#rooms.delete(name);
        this.safeEmit('roomRemoved', { room });
      }
    });
    this.#rooms.set(name, room);
    this.safeEmit('roomCreated', { room });
    // A listener could not set it up (no DSP room slot free) and closed it.
    if (room.destroyed)
      throw new InvalidStateError(`room '${name}' could not be set up (the engine reported why)`, {
        state: 'destroyed',
        expected: ['waiting']
      });
    return room;
  }
}
