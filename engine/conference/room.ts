/**
 * One conference room's rules, without media: who is in it, whether it has started,
 * who is muted, what each party should hear, and when it is destroyed. The room decides;
 * it emits typed events that the integrator wires to the mixer and prompt player.
 *
 * Rules (ARCHITECTURE "Details of the original API"):
 * - The room starts when it holds a party whose lifetime control has `startOnEntry` and at
 *   least one talker. Checked on every entry, so it also starts when a talker enters after
 *   a listen-only `startOnEntry` party; a `startOnEntry` party that already left no longer
 *   counts. Once started it stays started until destroyed.
 * - Until it starts nobody hears anybody: each party hears ringback, or its
 *   `onConferenceStoppedFile` when it has one (`partyAudioRole`).
 * - It is destroyed when a `destroyOnExit` party leaves, when its last party leaves, on `end()`
 *   (the application) or on `close()`; every remaining party then leaves with reason
 *   'roomDestroyed'.
 *
 * Announcements (`'announce'`, one event per party, to be queued per room by the player so
 * they never overlap): on entry, the beep (when `beepOnEntry`) then `prefixMedia` then
 * `onEntryMedia`; on exit, `prefixMedia` then `onExitMedia`. The prefix is only said
 * together with the media it qualifies. As nobody hears anything
 * before the start, entries into a waiting room are announced when it starts, in entry
 * order, and a party that leaves a waiting room is never announced. An exit is announced
 * only when somebody remains to hear it: not for the last party, nor when the exit
 * destroys the room, nor for parties removed because the room is destroyed.
 *
 * Event order on entry: 'partyJoined', then 'started' (if this entry starts the room),
 * then 'announce'. On exit: 'partyLeft', then 'announce' or the destruction. On
 * destruction: 'partyLeft' for each remaining party, then 'destroyed'. The room is
 * 'destroyed' (and refuses joins) from the first of those events on, so a listener that
 * joins "the same room" again gets a fresh room from the registry.
 */
import { InvalidArgumentError, InvalidStateError } from '../errors.js';
import { describe, normaliseDtmfDigit } from '../dtmf/dtmf-digit.js';
import { BEEP, type Media } from '../settings/media.js';
import { SafeEmitter } from '../../sip/index.js';
import { digitAction, type DigitAction } from './digit-actions.js';
import {
  Party,
  resolvePartyOptions,
  type LeaveReason,
  type PartyControl,
  type PartyOptions
} from './party.js';

export type RoomState = 'waiting' | 'started' | 'destroyed';

/** The range of a party's talk volume: down to near silence, up to the core's +12 dB gain. */
export const TALK_VOLUME_DB = { min: -60, max: 12 } as const;

/** The range of a party's listen volume: down to near silence, up to the core's +6 dB (assembly/mixer.ts). */
export const LISTEN_VOLUME_DB = { min: -60, max: 6 } as const;

/** RangeError, worded for `what`, unless `db` is a number within `range`. */
export function checkVolumeDb(what: string, db: unknown, range: { min: number; max: number }): void {
  if (typeof db !== 'number') throw new TypeError(`${what} must be a number of dB, got ${describe(db)}`);
  if (!(db >= range.min && db <= range.max))
    throw new RangeError(`${what} must be from ${range.min} to ${range.max} dB, got ${String(db)}`);
}

/** What a party should hear: the room mix, its hold audio, ringback, its stopped file, or nothing (it left). */
export type PartyAudioRole = 'mix' | 'held' | 'ringback' | 'stoppedFile' | 'none';

/** 'ended': the application ended the room (`ConferenceMedia.end`); 'closed': the engine closed it (stopping, or the room ended elsewhere in a cluster). */
export type DestroyReason = 'destroyOnExit' | 'empty' | 'closed' | 'ended';

export interface AnnounceEvent {
  /** The party being announced. */
  party: Party;
  kind: 'entry' | 'exit';
  /** Played to the whole room, in order. Never empty. */
  parts: readonly Media[];
}

export type RoomEvents = {
  partyJoined: [{ party: Party }];
  started: [];
  partyLeft: [{ party: Party; reason: LeaveReason }];
  muteChanged: [{ party: Party; muted: boolean }];
  /** `audio`: what the held party hears, looped, at the room's rate (undefined: silence). */
  holdChanged: [{ party: Party; held: boolean; audio: Int16Array | undefined }];
  talkVolumeChanged: [{ party: Party; db: number }];
  listenVolumeChanged: [{ party: Party; db: number }];
  /** `party` now coaches `agent` (only `agent` hears it), or no longer coaches anyone (undefined). */
  coachingChanged: [{ party: Party; agent: Party | undefined }];
  announce: [AnnounceEvent];
  destroyed: [{ reason: DestroyReason }];
};

let nextPartyId = 1;

export class ConferenceRoom extends SafeEmitter<RoomEvents> {
  readonly name: string;
  #state: RoomState = 'waiting';
  readonly #parties = new Map<Party, PartyControl>();
  /** Entries made while waiting, announced when the room starts. */
  readonly #pendingEntries: Party[] = [];

  readonly #onDestroy: ((room: ConferenceRoom) => void) | undefined;

  /**
   * @internal rooms are made by `RoomRegistry.join`, which validates the name and passes
   * `onDestroy`: called once, the moment the room becomes destroyed, before any event.
   */
  constructor(name: string, hooks: { onDestroy?: (room: ConferenceRoom) => void } = {}) {
    super();
    this.name = name;
    this.#onDestroy = hooks.onDestroy;
  }

  get state(): RoomState {
    return this.#state;
  }

  get started(): boolean {
    return this.#state === 'started';
  }

  get destroyed(): boolean {
    return this.#state === 'destroyed';
  }

  /** Parties in the room, in entry order. */
  get parties(): readonly Party[] {
    return [...this.#parties.keys()];
  }

  get size(): number {
    return this.#parties.size;
  }

  has(party: Party): boolean {
    return this.#parties.has(party);
  }

  /** Parties allowed to talk (muted ones included). */
  get talkerCount(): number {
    let count = 0;
    for (const party of this.#parties.keys()) if (party.talkerAndListener) count++;
    return count;
  }

  /**
   * Adds a party. Throws `InvalidStateError` when the room is destroyed, `TypeError` for
   * options of the wrong type.
   */
  join(options: PartyOptions = {}): Party {
    if (this.#state === 'destroyed') {
      throw this.destroyedError('join');
    }
    const resolved = resolvePartyOptions(options);
    const { party, control } = Party.create(nextPartyId++, this.name, resolved);
    this.#parties.set(party, control);
    this.safeEmit('partyJoined', { party });
    if (party.left || this.destroyed) return party; // a listener already removed it
    if (this.#state === 'started') {
      this.#announceEntry(party);
    } else {
      this.#pendingEntries.push(party);
      if (this.#shouldStart()) this.#start();
    }
    return party;
  }

  /**
   * Removes `party` with `reason`, then destroys the room if the party had `destroyOnExit`
   * or was the last one. Returns false (and does nothing) if it was not in the room:
   * leaving is idempotent.
   */
  leave(party: Party, reason: LeaveReason): boolean {
    const control = this.#parties.get(party);
    if (control === undefined) return false;
    this.#parties.delete(party);
    control.markLeft(reason);
    const pending = this.#pendingEntries.indexOf(party);
    if (pending >= 0) this.#pendingEntries.splice(pending, 1);
    if (this.#state === 'destroyed') {
      // Left on its own while the room is being destroyed (from a listener): just report it.
      this.safeEmit('partyLeft', { party, reason });
      return true;
    }
    const destroyReason: DestroyReason | undefined = party.lifetime.destroyOnExit
      ? 'destroyOnExit'
      : this.#parties.size === 0
        ? 'empty'
        : undefined;
    if (destroyReason !== undefined) {
      // Refuse joins from here on, also from listeners of this 'partyLeft'.
      this.#markDestroyed();
      this.safeEmit('partyLeft', { party, reason });
      this.#removeAll(destroyReason);
      return true;
    }
    this.safeEmit('partyLeft', { party, reason });
    this.#endCoachingOf(party);
    if (this.#state === 'started' && this.#parties.size > 0) {
      this.#announce(party, 'exit', [], party.media.onExitMedia.item);
    }
    return true;
  }

  /** Mutes or unmutes a party; emits 'muteChanged' and returns true only when it changed. */
  setMuted(party: Party, muted: boolean): boolean {
    if (typeof muted !== 'boolean') throw new TypeError(`muted must be a boolean, got ${typeof muted}`);
    const control = this.#controlOf(party);
    if (party.muted === muted) return false;
    control.setMuted(muted);
    this.safeEmit('muteChanged', { party, muted });
    return true;
  }

  /**
   * Puts a party on hold (it hears `audio`, looped, or silence; the room does not hear it) or
   * takes it off; emits 'holdChanged' and returns true only when it changed. A held party given
   * new `audio` hears that instead, with 'holdChanged' again.
   */
  setHeld(party: Party, held: boolean, audio?: Int16Array): boolean {
    if (typeof held !== 'boolean') throw new TypeError(`held must be a boolean, got ${typeof held}`);
    const control = this.#controlOf(party);
    if (party.held === held && !(held && audio !== undefined)) return false;
    control.setHeld(held);
    this.safeEmit('holdChanged', { party, held, audio: held ? audio : undefined });
    return true;
  }

  /** Sets the gain on what `party` says (dB, from TALK_VOLUME_DB's min to its max); emits 'talkVolumeChanged' when it changed. */
  setTalkVolume(party: Party, db: number): boolean {
    checkVolumeDb('talk volume', db, TALK_VOLUME_DB);
    const control = this.#controlOf(party);
    if (party.talkVolumeDb === db) return false;
    control.setTalkVolumeDb(db);
    this.safeEmit('talkVolumeChanged', { party, db });
    return true;
  }

  /**
   * Makes `party` coach `agent`: only `agent` hears it, the room no longer does, and it still
   * hears the room; `undefined` ends it, and the room hears `party` again (unless it is muted).
   * Emits 'coachingChanged' and returns true only when it changed. InvalidStateError for a party
   * not in the room or a listen-only coach; InvalidArgumentError for a party coaching itself.
   */
  setCoaching(party: Party, agent: Party | undefined): boolean {
    const control = this.#controlOf(party);
    if (agent !== undefined) {
      this.#controlOf(agent);
      if (agent === party) throw new InvalidArgumentError('agent', `${party.toString()} cannot coach itself`);
      if (!party.talkerAndListener)
        throw new InvalidStateError(`${party.toString()} is listen-only: it cannot coach`, {
          state: 'listener'
        });
    }
    if (party.coaching === agent) return false;
    control.setCoaching(agent);
    this.safeEmit('coachingChanged', { party, agent });
    return true;
  }

  /**
   * The parties that coached `agent`, which left: each is muted first, then stops coaching, so
   * a supervisor's whisper never turns into the room hearing it.
   */
  #endCoachingOf(agent: Party): void {
    for (const party of this.parties) {
      if (party.coaching !== agent) continue;
      if (this.#parties.has(party)) this.setMuted(party, true);
      // A listener of the mute may have taken it out of the room.
      if (this.#parties.has(party)) this.setCoaching(party, undefined);
    }
  }

  /** Sets the gain on what `party` hears of the room (dB, LISTEN_VOLUME_DB's range); emits 'listenVolumeChanged' when it changed. */
  setListenVolume(party: Party, db: number): boolean {
    checkVolumeDb('listen volume', db, LISTEN_VOLUME_DB);
    const control = this.#controlOf(party);
    if (party.listenVolumeDb === db) return false;
    control.setListenVolumeDb(db);
    this.safeEmit('listenVolumeChanged', { party, db });
    return true;
  }

  /** The refusal of `operation` on this room once it is destroyed, worded as every such refusal. */
  destroyedError(operation: string): InvalidStateError {
    return InvalidStateError.forState(`room '${this.name}'`, 'destroyed', ['waiting', 'started'], operation);
  }

  /** The room's write access to `party`; InvalidStateError when it is not in the room. */
  #controlOf(party: Party): PartyControl {
    const control = this.#parties.get(party);
    if (control === undefined) {
      throw new InvalidStateError(`${party.toString()} is not in room '${this.name}'`, { state: 'left' });
    }
    return control;
  }

  /**
   * Applies a DTMF digit pressed by `party`: exit, mute, unmute or nothing, per its
   * settings. Returns the action taken. Digits from a party not in the room, and strings
   * that are not DTMF digits, do nothing ('none'): they come from the network.
   */
  handleDigit(party: Party, digit: string): DigitAction {
    if (!this.#parties.has(party)) return 'none';
    const normalised = normaliseDtmfDigit(digit);
    if (normalised === undefined) return 'none';
    const action = digitAction(party.media, normalised, party.muted);
    if (action === 'exit') this.leave(party, 'exitDigit');
    else if (action === 'mute') this.setMuted(party, true);
    else if (action === 'unmute') this.setMuted(party, false);
    return action;
  }

  /** What `party` should hear now. */
  partyAudioRole(party: Party): PartyAudioRole {
    if (!this.#parties.has(party)) return 'none';
    if (party.held) return 'held';
    if (this.#state === 'started') return 'mix';
    return party.media.onConferenceStoppedFile === undefined ? 'ringback' : 'stoppedFile';
  }

  /** Whether `party`'s voice goes into the mix: a talker, not muted, held nor coaching, in a started room. */
  isContributing(party: Party): boolean {
    return (
      this.#state === 'started' &&
      this.#parties.has(party) &&
      party.talkerAndListener &&
      !party.muted &&
      !party.held &&
      party.coaching === undefined
    );
  }

  /** True when exactly two parties are in a started room and both allow two-party optimisation. */
  get twoPartyOptimisable(): boolean {
    if (this.#state !== 'started' || this.#parties.size !== 2) return false;
    for (const party of this.#parties.keys()) if (!party.media.twoPartyOptimisation) return false;
    return true;
  }

  /**
   * Starts a waiting room because the same room started on another node of the cluster
   * (a `startOnEntry` party entered there). Does nothing once started or destroyed.
   */
  startRemotely(): void {
    if (this.#state === 'waiting') this.#start();
  }

  /** Destroys the room: every party leaves with 'roomDestroyed'. Idempotent. */
  close(): void {
    this.#destroy('closed');
  }

  /** Destroys the room at the application's word, as a `destroyOnExit` party leaving would. Idempotent. */
  end(): void {
    this.#destroy('ended');
  }

  #shouldStart(): boolean {
    let starter = false;
    let talker = false;
    for (const party of this.#parties.keys()) {
      starter ||= party.lifetime.startOnEntry;
      talker ||= party.talkerAndListener;
    }
    return starter && talker;
  }

  #start(): void {
    this.#state = 'started';
    this.safeEmit('started');
    // Entries made while waiting, in order; a listener of 'started' may have removed some.
    while (this.#pendingEntries.length > 0 && this.#state === 'started') {
      const party = this.#pendingEntries.shift() as Party;
      if (this.#parties.has(party)) this.#announceEntry(party);
    }
  }

  #announceEntry(party: Party): void {
    this.#announce(party, 'entry', party.media.beepOnEntry ? [BEEP] : [], party.media.onEntryMedia.item);
  }

  /** `prefixMedia` only qualifies the entry/exit media ("george" + "has joined"), so it is played only with one. */
  #announce(party: Party, kind: 'entry' | 'exit', leading: readonly Media[], media: Media | undefined): void {
    const prefix = party.media.prefixMedia.item;
    const parts =
      media === undefined
        ? [...leading]
        : prefix === undefined
          ? [...leading, media]
          : [...leading, prefix, media];
    if (parts.length > 0) this.safeEmit('announce', { party, kind, parts: Object.freeze(parts) });
  }

  #destroy(reason: DestroyReason): void {
    if (this.#state === 'destroyed') return;
    this.#markDestroyed();
    this.#removeAll(reason);
  }

  #markDestroyed(): void {
    this.#state = 'destroyed';
    try {
      this.#onDestroy?.(this);
    } catch (error) {
      this.reportListenerError('destroyed', error);
    }
  }

  #removeAll(reason: DestroyReason): void {
    this.#pendingEntries.length = 0;
    for (const [party, control] of [...this.#parties]) {
      if (!this.#parties.delete(party)) continue; // a listener removed it meanwhile
      control.markLeft('roomDestroyed');
      this.safeEmit('partyLeft', { party, reason: 'roomDestroyed' });
    }
    this.safeEmit('destroyed', { reason });
  }
}
