/**
 * One party of a conference room: a read-only handle the application and the integrator
 * hold, whose state (muted, left) only its room changes. `createParty` hands the room the
 * controls that change it, so nothing else can.
 */
import { describe } from '../dtmf/dtmf-digit.js';
import { ConferenceLifetimeControl } from '../settings/conference-lifetime-control.js';
import { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';

/** Why a party left its room. */
export type LeaveReason =
  /** It pressed its `exitOnDtmfDigit`. */
  | 'exitDigit'
  /** The application called `retrieveTransferredCall`. */
  | 'retrieved'
  /** The application removed it from the room (`ConferenceMedia.remove`). */
  | 'removed'
  /** The room was destroyed (a `destroyOnExit` party left, or the room was closed). */
  | 'roomDestroyed'
  /** Its call hung up. */
  | 'hangup'
  /** The transfer timed out before the room started. */
  | 'timeout';

export interface PartyOptions {
  /** Whether the party may talk as well as listen. Default true. */
  talkerAndListener?: boolean;
  lifetime?: ConferenceLifetimeControl;
  media?: ConferencePartyMediaSettings;
  /** Free text for logs (e.g. the channel id); not used by the room. */
  label?: string;
  /** The channel whose call this party is (set by `transferToConferenceRoom`); not used by the room. */
  channelId?: string;
}

export type ResolvedPartyOptions = Required<Omit<PartyOptions, 'label' | 'channelId'>> &
  Pick<PartyOptions, 'label' | 'channelId'>;

/** The room's write access to a party. */
export interface PartyControl {
  setMuted(muted: boolean): void;
  setHeld(held: boolean): void;
  setTalkVolumeDb(db: number): void;
  setListenVolumeDb(db: number): void;
  setCoaching(agent: Party | undefined): void;
  markLeft(reason: LeaveReason): void;
}

export class Party {
  /** Unique within the process. */
  readonly id: number;
  readonly roomName: string;
  readonly talkerAndListener: boolean;
  readonly lifetime: ConferenceLifetimeControl;
  readonly media: ConferencePartyMediaSettings;
  readonly label: string | undefined;
  /** The channel whose call this party is; undefined for a party joined without one. */
  readonly channelId: string | undefined;
  #muted: boolean;
  #held = false;
  #talkVolumeDb = 0;
  #listenVolumeDb = 0;
  #coaching: Party | undefined;
  #leaveReason: LeaveReason | undefined;

  /** @internal use `ConferenceRoom.join`. */
  constructor(id: number, roomName: string, options: ResolvedPartyOptions) {
    this.id = id;
    this.roomName = roomName;
    this.talkerAndListener = options.talkerAndListener;
    this.lifetime = options.lifetime;
    this.media = options.media;
    this.label = options.label;
    this.channelId = options.channelId;
    this.#muted = options.media.startMuted;
  }

  get muted(): boolean {
    return this.#muted;
  }

  /** On hold: it hears its hold audio, not the room, and the room does not hear it. */
  get held(): boolean {
    return this.#held;
  }

  /** The gain on what it says, as the room hears it (dB; 0 as it comes). */
  get talkVolumeDb(): number {
    return this.#talkVolumeDb;
  }

  /** The gain on what it hears of the room (dB; 0 as the room is). */
  get listenVolumeDb(): number {
    return this.#listenVolumeDb;
  }

  /**
   * The party this one coaches: only that party hears it, the room does not (a supervisor's
   * whisper to an agent). Undefined when it talks to the room as usual.
   */
  get coaching(): Party | undefined {
    return this.#coaching;
  }

  /** True once the party has left its room (it never comes back: a new join makes a new party). */
  get left(): boolean {
    return this.#leaveReason !== undefined;
  }

  get leaveReason(): LeaveReason | undefined {
    return this.#leaveReason;
  }

  toString(): string {
    return `party ${this.id}${this.label === undefined ? '' : ` (${this.label})`} of room '${this.roomName}'`;
  }

  /** @internal */
  static create(
    id: number,
    roomName: string,
    options: ResolvedPartyOptions
  ): { party: Party; control: PartyControl } {
    const party = new Party(id, roomName, options);
    const control: PartyControl = {
      setMuted: (muted) => {
        party.#muted = muted;
      },
      setHeld: (held) => {
        party.#held = held;
      },
      setTalkVolumeDb: (db) => {
        party.#talkVolumeDb = db;
      },
      setListenVolumeDb: (db) => {
        party.#listenVolumeDb = db;
      },
      setCoaching: (agent) => {
        party.#coaching = agent;
      },
      markLeft: (reason) => {
        party.#leaveReason ??= reason;
      }
    };
    return { party, control };
  }
}

/** Defaults applied and types checked (also for JavaScript callers). */
export function resolvePartyOptions(options: PartyOptions): ResolvedPartyOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`party options must be an object, got ${describe(options)}`);
  }
  const {
    talkerAndListener = true,
    lifetime = new ConferenceLifetimeControl(),
    media = new ConferencePartyMediaSettings(),
    label,
    channelId
  } = options;
  if (typeof talkerAndListener !== 'boolean')
    throw new TypeError(`talkerAndListener must be a boolean, got ${typeof talkerAndListener}`);
  if (!(lifetime instanceof ConferenceLifetimeControl))
    throw new TypeError('lifetime must be a ConferenceLifetimeControl');
  if (!(media instanceof ConferencePartyMediaSettings))
    throw new TypeError('media must be a ConferencePartyMediaSettings');
  if (label !== undefined && typeof label !== 'string')
    throw new TypeError(`label must be a string, got ${typeof label}`);
  if (channelId !== undefined && typeof channelId !== 'string')
    throw new TypeError(`channelId must be a string, got ${typeof channelId}`);
  return { talkerAndListener, lifetime, media: media.snapshot(), label, channelId };
}
