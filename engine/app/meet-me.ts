/**
 * The example meet-me application behind `npm start`: an INVITE to `sip:<room>@host` (room
 * alphanumeric) is answered, greeted and transferred into room `<room>` with the spec's example
 * media settings: exit on '#', mute on '0', unmute on '1', the caller's name spoken as the prefix
 * of "has joined" / "has left". The room starts with its first caller and ends with its last.
 * A caller who presses '#' is retrieved, hears "goodbye" and is hung up.
 */
import { parseUri, isSipUri, unescape, type SipRequest } from '../../sip/index.js';
import { ConferenceLifetimeControl } from '../settings/conference-lifetime-control.js';
import { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';
import { State } from '../state.js';
import type { Engine } from '../engine.js';
import type { UASCallChannel } from '../channel/uas-call-channel.js';
import { spokenName } from './spoken-name.js';
import { askForPin, PinLockout, type PinGate } from './room-pins.js';

export interface MeetMeOptions {
  /** Rooms that ask for a PIN (keyed in as DTMF) before the caller may enter. */
  roomPins?: ReadonlyMap<string, string>;
  /** Wrong PINs per room across calls, and the lock they lead to (default PIN_LOCKOUT). */
  pinLockout?: PinLockout;
}

const ROOM_NAME = /^[A-Za-z0-9]{1,64}$/;

/** The room a Request-URI names, or undefined when it names none we serve. */
export function roomOfRequestUri(uri: string): string | undefined {
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch {
    return undefined;
  }
  if (!isSipUri(parsed) || parsed.user === undefined) return undefined;
  const user = unescape(parsed.user);
  return ROOM_NAME.test(user) ? user : undefined;
}

/** For `EngineOptions.inviteFilter`: refuse, before any channel exists, an INVITE naming no valid room. */
export function meetMeInviteFilter(request: SipRequest): { status: number; reason: string } | undefined {
  return roomOfRequestUri(request.uri) === undefined
    ? { status: 404, reason: 'Room Name Must Be Alphanumeric' }
    : undefined;
}

/**
 * The meet-me speaks with the engine's default voice, Flite's English, which says nothing at all
 * for a name in another script ("Иван", "李小龍" synthesise to no samples): the room would hear
 * silence before "has joined". Such a name is no name to it.
 */
function sayableByDefaultVoice(name: string | undefined): string | undefined {
  return name !== undefined && /[\p{Script=Latin}\p{Nd}]/u.test(name) ? name : undefined;
}

/** A URI's user part as text: its escapes are the octets of UTF-8 (RFC 3986 §2.5), not a character each. */
function userText(user: string): string {
  const octets = unescape(user);
  for (let i = 0; i < octets.length; i++) if (octets.charCodeAt(i) > 0xff) return octets;
  return Buffer.from(octets, 'latin1').toString('utf8');
}

/**
 * The name the room hears, cleaned and short (spoken-name.ts): the username the caller's digest
 * answer proved, when calls authenticate (a display name is the caller's to write: anyone could
 * be announced as the chair); else its display name, else the user part of its URI.
 */
export function callerName(channel: UASCallChannel): string {
  if (channel.authenticatedUser !== undefined)
    return sayableByDefaultVoice(spokenName(channel.authenticatedUser)) ?? 'a caller';
  const display = sayableByDefaultVoice(spokenName(channel.remoteDisplayName));
  if (display) return display;
  const remote = channel.remoteUri;
  if (remote) {
    try {
      const parsed = parseUri(remote.replace(/^.*<|>.*$/g, ''));
      const user =
        isSipUri(parsed) && parsed.user
          ? sayableByDefaultVoice(spokenName(userText(parsed.user)))
          : undefined;
      if (user) return user;
    } catch {
      /* fall through */
    }
  }
  return 'a caller';
}

export function spellRoomName(room: string): string {
  return /^\d+$/.test(room) ? room.split('').join(' ') : room;
}

export function conferenceSettings(name: string): ConferencePartyMediaSettings {
  const media = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
  media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
  media.prefixMedia.textToSay(name);
  media.onEntryMedia.textToSay('has joined');
  media.onExitMedia.textToSay('has left');
  return media;
}

/** Handles one incoming call from ringing to hang-up. */
export async function meetMeCall(
  engine: Engine,
  channel: UASCallChannel,
  options: MeetMeOptions = {}
): Promise<void> {
  const room = roomOfRequestUri(channel.requestUri ?? '');
  if (room === undefined) {
    await channel.hangUp();
    return;
  }
  const log = engine.logger.child({ channelId: channel.id, callId: channel.callId, room });
  try {
    await channel.ring();
    if ((await channel.answer()) !== State.ANSWERED) return;
    await channel.playText(`Welcome to conference ${spellRoomName(room)}.`);
    const pin = options.roomPins?.get(room);
    if (pin !== undefined) {
      const outcome = await askForPin(channel, pin, pinGate(options.pinLockout, room, engine, log));
      if (outcome !== 'right') {
        log.info(outcome === 'locked' ? 'conference PIN entry locked' : 'wrong conference PIN');
        await channel.playText(
          outcome === 'locked'
            ? 'This conference is not taking PINs now. Please try again later. Goodbye.'
            : 'Goodbye.'
        );
        await channel.hangUp();
        return;
      }
    }
    const other = engine.createChannel();
    const state = await channel.transferToConferenceRoom(other, room, {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: false }),
      conferencePartyMediaSettings: conferenceSettings(callerName(channel))
    });
    if (state !== State.TRANSFERRED) {
      log.info({ transferCause: channel.transferCause() }, 'could not transfer the call to the conference');
      if (channel.state === State.ANSWERED) await channel.playText('Sorry, the conference is not available.');
      await channel.hangUp();
      return;
    }
    if ((await channel.waitForTransferredCallRetrieval()) === State.ANSWERED) {
      await channel.playText('Goodbye.');
      await channel.hangUp();
    }
  } catch (error) {
    if (channel.state !== State.IDLE) log.warn({ err: error }, 'meet-me call failed');
    await channel.hangUp().catch(() => undefined);
  }
}

/**
 * The room's lockout as a call's PIN entry sees it (none: never locked). In a cluster the count
 * and the lock are the directory's, shared by every engine; this engine counts too, and when the
 * directory does not answer (down, or slower than its command timeout) its own count decides: a
 * Redis outage then allows each engine its own limit, as before there was a shared one, rather
 * than letting guesses through unchecked or turning away every caller of every room with a PIN.
 */
function pinGate(
  lockout: PinLockout | undefined,
  room: string,
  engine: Engine,
  log: Engine['logger']
): PinGate {
  if (lockout === undefined) return { locked: () => false, wrong: () => false };
  const lockedNow = (): true => {
    log.warn('too many wrong conference PINs: the room takes none for a while');
    return true;
  };
  const unshared = (error: unknown): undefined => {
    log.debug({ err: error }, 'cluster PIN count unknown: counting on this engine alone');
    return undefined;
  };
  return {
    locked: async () => {
      if (lockout.locked(room)) return true;
      return (await engine.cluster?.pinLocked(room).catch(unshared)) ?? false;
    },
    wrong: async () => {
      if (lockout.locked(room)) return true;
      const locally = lockout.wrong(room);
      const shared = await engine.cluster?.wrongPin(room, lockout.limits).catch(unshared);
      if (locally || shared === 'lockedNow') return lockedNow();
      return shared === 'locked';
    }
  };
}

/** Serves meet-me calls on `engine` until it stops. */
export function serveMeetMe(engine: Engine, options: MeetMeOptions = {}): void {
  const served = { ...options, pinLockout: options.pinLockout ?? new PinLockout() };
  engine.on('call', (channel) => {
    void meetMeCall(engine, channel, served);
  });
}
