import { describe, expect, it } from 'vitest';
import { RoomRegistry } from '../../engine/conference/room-registry.js';
import type { ConferenceRoom } from '../../engine/conference/room.js';
import { InvalidArgumentError, InvalidStateError } from '../../engine/errors.js';
import { ConferenceLifetimeControl } from '../../engine/settings/conference-lifetime-control.js';

describe('RoomRegistry names', () => {
  it.each(['a b', 'room-1', 'café', 'x_y', 'a\n', ''])('rejects %j before creating any room', (name) => {
    const registry = new RoomRegistry();
    expect(() => registry.join(name)).toThrow(InvalidArgumentError);
    expect(registry.size).toBe(0);
  });

  it("says what was wrong: room name 'a b' must be alphanumeric", () => {
    expect(() => new RoomRegistry().join('a b')).toThrow("room name 'a b' must be alphanumeric");
  });

  it('rejects a name longer than maxNameLength and accepts one of exactly that length', () => {
    const registry = new RoomRegistry({ maxNameLength: 8 });
    expect(() => registry.join('a'.repeat(9))).toThrow(InvalidArgumentError);
    expect(registry.join('a'.repeat(8)).room.name).toBe('aaaaaaaa');
  });

  it('rejects a non-string name with TypeError', () => {
    expect(() => new RoomRegistry().join(42 as unknown as string)).toThrow(TypeError);
  });

  it('treats names case-sensitively', () => {
    const registry = new RoomRegistry();
    expect(registry.join('Room1').room).not.toBe(registry.join('room1').room);
    expect(registry.size).toBe(2);
  });

  it('creates no room when the party options are invalid', () => {
    const registry = new RoomRegistry();
    expect(() => registry.join('r1', { talkerAndListener: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(registry.size).toBe(0);
  });
});

describe('RoomRegistry lifecycle', () => {
  it('creates a room on the first join and reuses it for the next', () => {
    const registry = new RoomRegistry();
    const first = registry.join('r1');
    const second = registry.join('r1');
    expect(second.room).toBe(first.room);
    expect(first.room.parties).toEqual([first.party, second.party]);
    expect(registry.rooms()).toEqual([first.room]);
    expect(registry.get('r1')).toBe(first.room);
  });

  it('forgets a room when its parties leave one by one', () => {
    const registry = new RoomRegistry();
    const parties = [registry.join('r1'), registry.join('r1'), registry.join('r1')];
    for (const { room, party } of parties) room.leave(party, 'hangup');
    expect(registry.size).toBe(0);
    expect(registry.has('r1')).toBe(false);
  });

  it('forgets a room destroyed by a destroyOnExit party', () => {
    const registry = new RoomRegistry();
    const chair = registry.join('r1', { lifetime: new ConferenceLifetimeControl({ destroyOnExit: true }) });
    const other = registry.join('r1');
    chair.room.leave(chair.party, 'retrieved');
    expect(registry.size).toBe(0);
    expect(other.party.leaveReason).toBe('roomDestroyed');
  });

  it('reports rooms created and removed', () => {
    const registry = new RoomRegistry();
    const seen: string[] = [];
    registry.on('roomCreated', ({ room }) => seen.push(`+${room.name}`));
    registry.on('roomRemoved', ({ room }) => seen.push(`-${room.name}`));
    const { room, party } = registry.join('r1');
    registry.join('r2').room.close();
    room.leave(party, 'hangup');
    expect(seen).toEqual(['+r1', '+r2', '-r2', '-r1']);
  });

  it('gives a join made from a teardown listener a fresh room of the same name', () => {
    const registry = new RoomRegistry();
    const chair = registry.join('r1', { lifetime: new ConferenceLifetimeControl({ destroyOnExit: true }) });
    registry.join('r1');
    let rejoined: ConferenceRoom | undefined;
    chair.room.on('partyLeft', ({ reason }) => {
      if (reason === 'roomDestroyed') rejoined = registry.join('r1').room;
    });
    chair.room.leave(chair.party, 'exitDigit');
    expect(rejoined).toBeDefined();
    expect(rejoined).not.toBe(chair.room);
    expect(rejoined?.destroyed).toBe(false);
    expect(registry.get('r1')).toBe(rejoined);
    expect(registry.size).toBe(1);
  });

  it('keeps the fresh room when the old one finishes its teardown', () => {
    const registry = new RoomRegistry();
    const old = registry.join('r1');
    let fresh: ConferenceRoom | undefined;
    old.room.on('partyLeft', () => {
      fresh = registry.join('r1').room;
    });
    old.room.leave(old.party, 'hangup');
    old.room.close();
    expect(registry.get('r1')).toBe(fresh);
  });

  it('makes a join on a stale room reference fail clearly after the room was destroyed', () => {
    const registry = new RoomRegistry();
    const { room, party } = registry.join('r1');
    room.leave(party, 'hangup');
    expect(() => room.join()).toThrow(InvalidStateError);
    expect(registry.join('r1').room).not.toBe(room);
  });

  it('closes every room, refuses joins afterwards, and closes idempotently', () => {
    const registry = new RoomRegistry();
    const a = registry.join('a');
    const b = registry.join('b');
    registry.close();
    registry.close();
    expect(registry.size).toBe(0);
    expect(a.room.destroyed && b.room.destroyed).toBe(true);
    expect(a.party.leaveReason).toBe('roomDestroyed');
    expect(() => registry.join('a')).toThrow(InvalidStateError);
  });

  it('validates the name before reporting that it is closed', () => {
    const registry = new RoomRegistry();
    registry.close();
    expect(() => registry.join('a b')).toThrow(InvalidArgumentError);
  });
});
