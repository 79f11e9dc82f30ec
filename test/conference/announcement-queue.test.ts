import { describe, expect, it, vi } from 'vitest';
import { AnnouncementQueue } from '../../engine/conference/announcement-queue.js';
import { ConferenceRoom } from '../../engine/conference/room.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';

function named(name: string): ConferencePartyMediaSettings {
  const media = new ConferencePartyMediaSettings({ beepOnEntry: false });
  media.prefixMedia.textToSay(name);
  media.onEntryMedia.textToSay('has joined');
  media.onExitMedia.textToSay('has left');
  return media;
}

function said(queue: AnnouncementQueue): string[] {
  const out: string[] = [];
  for (let a = queue.take(); a !== undefined; a = queue.take()) {
    out.push(`${a.parts[0].kind === 'text' ? a.parts[0].text : '?'} ${a.kind}`);
    queue.finish();
  }
  return out;
}

describe('AnnouncementQueue', () => {
  it('hands out one announcement at a time, in order', () => {
    const room = new ConferenceRoom('r1');
    const queue = new AnnouncementQueue(room);
    room.join({ media: named('ann') });
    room.join({ media: named('bob') });
    const first = queue.take();
    expect(first?.parts[0]).toEqual({ kind: 'text', text: 'ann' });
    expect(queue.take()).toBeUndefined(); // ann still playing
    queue.finish();
    expect(queue.take()?.parts[0]).toEqual({ kind: 'text', text: 'bob' });
  });

  it("emits 'ready' when an announcement arrives while idle, and when one waits after finish", () => {
    const room = new ConferenceRoom('r1');
    const queue = new AnnouncementQueue(room);
    const ready = vi.fn();
    queue.on('ready', ready);
    room.join({ media: named('ann') });
    room.join({ media: named('bob') });
    expect(ready).toHaveBeenCalledTimes(1);
    queue.take();
    queue.finish();
    expect(ready).toHaveBeenCalledTimes(2);
  });

  it('drops a waiting entry announcement of a party that left, keeping its exit', () => {
    const room = new ConferenceRoom('r1');
    const queue = new AnnouncementQueue(room);
    room.join({ media: named('ann') });
    const bob = room.join({ media: named('bob') });
    queue.take(); // ann playing
    room.leave(bob, 'hangup');
    queue.finish();
    expect(said(queue)).toEqual(['bob exit']);
  });

  it('empties, closes and releases its room listeners when the room is destroyed', () => {
    const room = new ConferenceRoom('r1');
    const before = room.totalListenerCount();
    const queue = new AnnouncementQueue(room);
    room.join({ media: named('ann') });
    room.close();
    expect(queue.closed).toBe(true);
    expect(queue.take()).toBeUndefined();
    expect(room.totalListenerCount()).toBe(before);
  });

  it('drops the oldest beyond maxPending and counts it', () => {
    const room = new ConferenceRoom('r1');
    const queue = new AnnouncementQueue(room, { maxPending: 2 });
    for (const name of ['a', 'b', 'c']) room.join({ media: named(name) });
    expect(queue.dropped).toBe(1);
    expect(said(queue)).toEqual(['b entry', 'c entry']);
  });

  it('closes idempotently', () => {
    const room = new ConferenceRoom('r1');
    const queue = new AnnouncementQueue(room);
    queue.close();
    queue.close();
    room.join({ media: named('ann') });
    expect(queue.pending).toBe(0);
    expect(room.totalListenerCount()).toBe(0);
  });
});
