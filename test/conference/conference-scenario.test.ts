/**
 * The spec's usage example end to end, without network: parties wait for the room to start
 * (their legs ringing), enter, use their digits (sent two ways at once, as many peers do),
 * and the chair's exit retrieves everybody and leaves nothing behind.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnnounceEvent } from '../../engine/conference/room.js';
import { RoomRegistry } from '../../engine/conference/room-registry.js';
import { waitForRoomStart } from '../../engine/conference/transfer-wait.js';
import { DigitMerger } from '../../engine/dtmf/digit-merger.js';
import { ConferenceLifetimeControl } from '../../engine/settings/conference-lifetime-control.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('conference scenario', () => {
  it('runs the spec example: wait, start, mute by digit sent twice, chair exit retrieves all', async () => {
    const registry = new RoomRegistry();
    const guestMedia = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
    guestMedia.muteOnDtmfDigits.setDigits({ mute: '0' }); // toggles
    guestMedia.prefixMedia.textToSay('george');
    guestMedia.onEntryMedia.textToSay('has joined');
    const guest = registry.join('conf42', {
      media: guestMedia,
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false })
    });
    const announced: AnnounceEvent[] = [];
    guest.room.on('announce', (event) => announced.push(event));
    const guestWait = waitForRoomStart(guest.room, guest.party, { secondsTimeout: 120 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(guest.room.partyAudioRole(guest.party)).toBe('ringback');

    const chair = registry.join('conf42', {
      lifetime: new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: true }),
      media: new ConferencePartyMediaSettings({ exitOnDtmfDigit: '*' })
    });
    await expect(guestWait).resolves.toBe('started');
    expect(guest.room.partyAudioRole(guest.party)).toBe('mix');
    expect(announced.shift()?.parts.map((p) => (p.kind === 'text' ? p.text : p.kind))).toEqual([
      'tone',
      'george',
      'has joined'
    ]);

    // The guest presses 0 once; its phone sends RFC 4733 and the tone leaks in-band.
    const merger = new DigitMerger({ now: () => 0 });
    merger.on('digit', ({ digit }) => guest.room.handleDigit(guest.party, digit));
    merger.push({ source: 'rfc4733', digit: '0', startMs: 40_000, durationMs: 0 });
    merger.push({ source: 'inband', digit: '0', startMs: 40_030, durationMs: 90 });
    expect(guest.party.muted).toBe(true);
    expect(guest.room.isContributing(guest.party)).toBe(false);

    chair.room.handleDigit(chair.party, '*');
    expect(guest.party.leaveReason).toBe('roomDestroyed');
    expect(registry.size).toBe(0);
    expect(guest.room.destroyed).toBe(true);
    merger.close();
  });

  it('times out a lone waiting party and removes the room once it leaves', async () => {
    const registry = new RoomRegistry();
    const { room, party } = registry.join('lonely', {
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false })
    });
    const outcome = waitForRoomStart(room, party, { secondsTimeout: 5 });
    await vi.advanceTimersByTimeAsync(5000);
    await expect(outcome).resolves.toBe('timeout');
    room.leave(party, 'timeout');
    expect(registry.size).toBe(0);
  });

  it('lets the original call hanging up end the wait', async () => {
    const registry = new RoomRegistry();
    const { room, party } = registry.join('r', {
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false })
    });
    const originalCall = new AbortController();
    const outcome = waitForRoomStart(room, party, { secondsTimeout: null, signal: originalCall.signal });
    originalCall.abort();
    await expect(outcome).resolves.toBe('aborted');
    room.leave(party, 'hangup');
    expect(registry.size).toBe(0);
  });
});
