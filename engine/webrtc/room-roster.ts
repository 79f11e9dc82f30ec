/**
 * Who is in each room and who is talking, for the join page: the parties of the engine's
 * rooms with a display name (the text of their `prefixMedia`, as the room announces them)
 * and the talking state from the room's talker events.
 */
import type { ConferenceRoom } from '../conference/room.js';
import type { RoomRegistry } from '../conference/room-registry.js';
import type { Party } from '../conference/party.js';
import type { ConferenceMedia } from '../media/conference-media.js';

export interface RosterEntry {
  id: number;
  name: string;
  talking: boolean;
  muted: boolean;
}

export class RoomRoster {
  private readonly talking = new Set<Party>();
  private readonly onRoomCreated = ({ room }: { room: ConferenceRoom }): void => {
    // The engine makes the room's media in its own 'roomCreated' listener: look after it ran.
    queueMicrotask(() => this.watch(room));
  };

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly conference: (name: string) => ConferenceMedia | undefined
  ) {
    rooms.on('roomCreated', this.onRoomCreated);
  }

  private watch(room: ConferenceRoom): void {
    const media = this.conference(room.name);
    if (!media) return;
    media.on('talking', ({ party }) => this.talking.add(party));
    media.on('stoppedTalking', ({ party }) => this.talking.delete(party));
    room.on('partyLeft', ({ party }) => this.talking.delete(party));
  }

  entries(roomName: string): RosterEntry[] | undefined {
    const room = this.rooms.get(roomName);
    if (!room) return undefined;
    return room.parties.map((party) => {
      const prefix = party.media.prefixMedia.item;
      const name = prefix && prefix.kind === 'text' ? prefix.text : `participant ${party.id}`;
      return { id: party.id, name, talking: this.talking.has(party), muted: party.muted };
    });
  }

  close(): void {
    this.rooms.off('roomCreated', this.onRoomCreated);
    this.talking.clear();
  }
}
