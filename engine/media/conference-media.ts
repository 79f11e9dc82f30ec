/**
 * A live conference room as the application holds it (`engine.conference(name)`): its mix room
 * in the DSP core, driven by the frame loop; its announcements; who talks; and the moderator's
 * controls (mute, remove, say, end). Announcements are synthesised ahead of time, off the frame
 * clock, and queued in the order the room announced them, so two parties entering at once are
 * announced one after the other and never over each other; what the application says to the
 * room joins the same queue.
 */
import { checkVolumeDb, LISTEN_VOLUME_DB, TALK_VOLUME_DB, type ConferenceRoom } from '../conference/room.js';
import type { LeaveReason, Party } from '../conference/party.js';
import {
  RoomModerator,
  type ClusterRoomHooks,
  type Moderation,
  type ModerationTarget,
  type RosterEntry
} from '../conference/room-moderator.js';
import type { Logger } from 'pino';
import { SafeEmitter } from '../../sip/index.js';
import { ABORT_SIGNAL, ANY, checkOptionKeys, type OptionKeys } from '../util/option-keys.js';
import type { DspKernels } from '../dsp/kernels.js';
import { MixRoom } from './mix-room.js';
import { RoomRecorder } from './room-recorder.js';
import { checkRecordArguments, MAX_RECORD_SECONDS, Recorder, type RecordOptions } from './recorder.js';
import type { RecordFolder } from './file-folders.js';
import type { MixLoop } from './mix-loop.js';
import type { MediaLeg } from './media-leg.js';
import { WhisperRoutes } from './whisper-routes.js';
import type { AnnouncementFloor } from './announcement-queue.js';
import type { MediaResolver } from './media-resolver.js';
import { AnnouncementError, ClosedError, EngineError, InvalidStateError } from '../errors.js';
import {
  fileMedia,
  textMedia,
  type FileMedia,
  type TextMedia,
  type TextToSayOptions,
  SPEECH_OPTION_KEYS
} from '../settings/media.js';

/** A talker on another node of a cluster: `party` is its label there (the channel id). */
export interface RemoteTalkerEvent {
  nodeId: string;
  party: string;
  levelDbfs: number;
}

/** A caller on another node of a cluster: `party` is its label there (the channel id). */
export interface RemotePartyEvent {
  nodeId: string;
  party: string;
  reason?: string;
}

export type ConferenceMediaEvents = {
  talking: [{ party: Party; levelDbfs: number }];
  stoppedTalking: [{ party: Party; levelDbfs: number }];
  /** In a cluster: a party of this room on another node started talking. */
  remoteTalking: [RemoteTalkerEvent];
  remoteStoppedTalking: [RemoteTalkerEvent];
  /** A muted party began talking (FreeSWITCH's `mute-detect`): the room does not hear it. */
  mutedTalking: [{ party: Party; levelDbfs: number }];
  remoteMutedTalking: [RemoteTalkerEvent];
  /** In a cluster: a caller of this room on another node entered it. */
  remotePartyJoined: [RemotePartyEvent];
  /** In a cluster: a caller on another node left (`reason`: its LeaveReason there, or 'nodeLost'). */
  remotePartyLeft: [RemotePartyEvent & { reason: string }];
  /** A caller of this engine entered the room (a cluster's trunk legs are not reported). */
  partyJoined: [{ party: Party }];
  /** A caller of this engine left the room, and why. */
  partyLeft: [{ party: Party; reason: LeaveReason }];
  /** A caller of this engine was muted or unmuted: by its keypad or by a moderator. */
  muteChanged: [{ party: Party; muted: boolean }];
  /** A caller of this engine was put on hold or taken off it (or, held, given other music). */
  holdChanged: [{ party: Party; held: boolean }];
  /** A caller of this engine began coaching `agent`, or stopped (undefined). */
  coachingChanged: [{ party: Party; agent: Party | undefined }];
};

/** `say`'s options: the voice, rate and pitch of a prompt, and a signal that stops it. */
export interface SayOptions extends TextToSayOptions {
  signal?: AbortSignal;
}

/** What a room's media is made with: the engine's DSP core, frame loop, prompts, folders and log. */
export interface ConferenceMediaParts {
  kernels: DspKernels;
  loop: MixLoop;
  resolver: MediaResolver;
  /** Where an announcement that could not be made is reported (the engine's 'error' event). */
  onError: (error: unknown) => void;
  sampleRateHz: 8000 | 16000;
  recordFolder: RecordFolder;
  logger: Logger;
}

const HOLD_OPTION_KEYS = { fileToPlay: ANY } satisfies OptionKeys<{ fileToPlay?: string }>;
const SAY_OPTION_KEYS = { ...SPEECH_OPTION_KEYS, signal: ABORT_SIGNAL } satisfies OptionKeys<SayOptions>;
const ROOM_PLAY_FILE_OPTION_KEYS = { signal: ABORT_SIGNAL } satisfies OptionKeys<{ signal?: AbortSignal }>;

/** ConferenceMediaEvents' names, at run time: `on()` of another is a TypeError. */
const CONFERENCE_EVENTS = {
  talking: true,
  stoppedTalking: true,
  remoteTalking: true,
  remoteStoppedTalking: true,
  mutedTalking: true,
  remoteMutedTalking: true,
  remotePartyJoined: true,
  remotePartyLeft: true,
  partyJoined: true,
  partyLeft: true,
  muteChanged: true,
  holdChanged: true,
  coachingChanged: true
} satisfies Record<keyof ConferenceMediaEvents, true>;

export class ConferenceMedia extends SafeEmitter<ConferenceMediaEvents> {
  readonly mix: MixRoom;
  /** Resolves announcement parts in announce order; enqueueing follows the same chain. */
  private chain: Promise<void> = Promise.resolve();
  /** The playing out of the last announcement queued (settles however it ends). */
  private lastPlayed: Promise<void> = Promise.resolve();
  /** Entry announcements whose turn has not come yet, by party (see entryAnnouncement). */
  private readonly entriesUnheard = new Map<Party, AbortController>();
  /** Parties whose entry announcement ended without playing (no place in the queue, no audio). */
  private readonly entriesNotPlayed = new WeakSet<Party>();
  private closed = false;
  private readonly moderator: RoomModerator;
  private recording: RoomRecorder | undefined;
  /** Counts stopRecording() calls: a record() still opening its file sees one made meanwhile. */
  private stopsAsked = 0;
  private readonly kernels: DspKernels;
  private readonly loop: MixLoop;
  private readonly resolver: MediaResolver;
  private readonly onError: (error: unknown) => void;
  private readonly recordFolder: RecordFolder;
  private readonly whispers = new WhisperRoutes();
  /** Parties the room has told talking and not yet stopped: one leaving is stopped before it is gone. */
  private readonly talkers = new Set<Party>();

  constructor(
    readonly room: ConferenceRoom,
    parts: ConferenceMediaParts
  ) {
    super(CONFERENCE_EVENTS);
    const { kernels, loop, resolver, sampleRateHz } = parts;
    this.kernels = kernels;
    this.loop = loop;
    this.resolver = resolver;
    this.onError = parts.onError;
    this.recordFolder = parts.recordFolder;
    this.mix = new MixRoom(kernels, sampleRateHz);
    this.moderator = new RoomModerator(
      room,
      (fileToPlay) => this.resolver.toPcm(fileMedia('hold', fileToPlay), sampleRateHz),
      parts.logger.child({ roomName: room.name })
    );
    loop.add(this.mix);
    room.on('announce', ({ party, kind, parts }) => {
      const failed = (cause: unknown): void =>
        this.onError(new AnnouncementError({ roomName: room.name, channelId: party.channelId, kind }, cause));
      const entry = this.entryAnnouncement(party, kind);
      if (entry === 'unheard') return;
      // Made ahead of the chain (an earlier announcement may still be synthesising), each part on
      // its own: a part that fails (a file refused or missing) is reported, the others play.
      const pcm = this.resolver.each(parts, this.mix.sampleRateHz);
      this.chain = this.chain
        .then(() => pcm)
        .then((results) => {
          // A room closed meanwhile (the engine stopping closes the prompt service under its
          // last exit announcements) has nobody to play to, nor anything to report.
          if (this.closed || entry?.signal.aborted) return entry?.settled();
          const frames: Int16Array[] = [];
          for (const result of results) {
            if (result.status === 'fulfilled') frames.push(result.value);
            else failed(result.reason);
          }
          if (frames.length === 0) return entry?.settled();
          // Not awaited: the queue plays it after any announcement already queued.
          this.lastPlayed = this.mix.announcements
            .enqueue(frames, { signal: entry?.signal, onStart: entry?.started })
            .catch((error: unknown) => {
              // Else stopped (its party left before it was heard) or cleared (the room closed).
              if (error instanceof EngineError && error.code === 'ERR_QUEUE_FULL') failed(error);
            })
            .finally(() => entry?.settled());
        })
        .catch((error: unknown) => this.onError(error));
    });
    room.on('partyJoined', ({ party }) => {
      if (!this.moderator.isTrunkLeg(party)) this.safeEmit('partyJoined', { party });
    });
    room.on('partyLeft', ({ party, reason }) => {
      if (this.moderator.isTrunkLeg(party)) return;
      // Its call tells the stop only once out of the room: after 'partyLeft' the party has no more events.
      if (this.talkers.has(party)) this.reportTalking(party, false, -100);
      this.safeEmit('partyLeft', { party, reason });
    });
    room.on('muteChanged', ({ party, muted }) => {
      this.whispers.route();
      this.safeEmit('muteChanged', { party, muted });
    });
    room.on('holdChanged', ({ party, held }) => {
      this.whispers.route();
      this.safeEmit('holdChanged', { party, held });
    });
    room.on('coachingChanged', ({ party, agent }) => {
      this.whispers.route();
      this.safeEmit('coachingChanged', { party, agent });
    });
    room.on('destroyed', () => this.close());
  }

  /**
   * A party that leaves before its own entry announcement has begun to play is announced neither
   * way: its entry is dropped (still being made, or waiting behind others) and its exit is not
   * made. One source joining and leaving again and again kept the room's queue (32) full of its
   * own comings and goings, so other callers' announcements were turned away. Nor is a party
   * whose entry was never played (the queue had no place for it) announced leaving: nobody heard
   * it come. For an entry, its stop signal, `started` (its turn came) and `settled` (it has played
   * or been dropped); for an exit, 'unheard' when it is not to be made.
   */
  private entryAnnouncement(
    party: Party,
    kind: 'entry' | 'exit'
  ): { signal: AbortSignal; started(): void; settled(): void } | 'unheard' | undefined {
    if (kind === 'exit') {
      if (this.entriesNotPlayed.delete(party)) return 'unheard';
      const entry = this.entriesUnheard.get(party);
      if (!entry) return undefined;
      this.entriesUnheard.delete(party);
      entry.abort();
      return 'unheard';
    }
    const entry = new AbortController();
    this.entriesUnheard.set(party, entry);
    let heard = false;
    const forget = (): void => {
      if (this.entriesUnheard.get(party) === entry) this.entriesUnheard.delete(party);
    };
    const started = (): void => {
      heard = true;
      forget();
    };
    const settled = (): void => {
      if (!heard && !entry.signal.aborted && !this.closed) this.entriesNotPlayed.add(party);
      forget();
    };
    return { signal: entry.signal, started, settled };
  }

  /** The room's name. */
  get name(): string {
    return this.room.name;
  }

  /** Callers of this engine in the room, in entry order (in a cluster, the other nodes' are theirs to list). */
  get parties(): readonly Party[] {
    return this.moderator.parties;
  }

  /**
   * The room's callers on every node of a cluster (`{ nodeId, party, muted }`, each a target for
   * `mute`, `unmute` and `remove` as it is), as the nodes last wrote them into Redis: on a join,
   * a leave, a mute, and every third of a lease. Outside a cluster, this engine's (no `nodeId`).
   * Rejects with `ERR_CLUSTER_UNAVAILABLE` when Redis cannot be reached.
   */
  roster(): Promise<RosterEntry[]> {
    if (this.closed) return Promise.reject(this.room.destroyedError('roster'));
    return this.moderator.roster();
  }

  /**
   * Mutes a party: a `Party` of this room, the id of a channel of this engine in it, or in a
   * cluster a party on another node (`{ nodeId, party }`, as a `remoteTalking` event names it),
   * which that node mutes. The others stop hearing it, and it hears its falling mute notes when
   * its `muteTones` is on. Muting a muted party does nothing.
   */
  mute(party: ModerationTarget): Promise<void> {
    return this.moderator.moderate({ action: 'mute' }, party, this.closed);
  }

  /** Unmutes a party muted by `mute`, by its keypad or by `startMuted`; see `mute`. */
  unmute(party: ModerationTarget): Promise<void> {
    return this.moderator.moderate({ action: 'unmute' }, party, this.closed);
  }

  /**
   * Takes a party out of the room (its leave reason is 'removed'): as for its exit digit, its exit
   * announcement plays to the others, and its call is retrieved (its channel is ANSWERED again and
   * `waitForTransferredCallRetrieval` resolves). A `destroyOnExit` party ends the room as it leaves.
   */
  remove(party: ModerationTarget): Promise<void> {
    return this.moderator.moderate({ action: 'remove' }, party, this.closed);
  }

  /**
   * Puts a party on hold, as a cloud API's participant hold does: the room no longer hears it, and
   * it hears `fileToPlay` (a WAV file in the engine's play folders, looped) or silence instead of
   * the room. Its talker events stop; its keypad still works (its exit digit takes it out).
   * Rejects as `playFile` does for a file it cannot play, and changes nothing then. A held party
   * given another file hears that one instead ('holdChanged' again). A party on another node is
   * asked, as for `mute`, and plays the file from its own node's folders.
   */
  hold(party: ModerationTarget, options: { fileToPlay?: string } = {}): Promise<void> {
    try {
      checkOptionKeys(options, HOLD_OPTION_KEYS, 'hold');
      const { fileToPlay } = options;
      if (fileToPlay !== undefined) fileMedia('hold', fileToPlay);
      return this.moderator.moderate({ action: 'hold', fileToPlay }, party, this.closed);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Sets how loud the room hears a party: a gain in dB on what it says, from -60 to +12 (0 as it
   * comes; FreeSWITCH's `volume_in`). Its mix-minus takes the same gain out, so it never hears
   * itself. Kept while it is in the room; its call leaves it behind.
   */
  setTalkVolume(party: ModerationTarget, db: number): Promise<void> {
    return this.setVolume({ action: 'talkVolume', talkVolumeDb: db }, party, db, TALK_VOLUME_DB);
  }

  /**
   * Makes `party` coach `agent`, as a cloud API's coaching participant or Asterisk's whisper: only
   * `agent` hears it (20 ms later than the room would), the others no longer do, and it still
   * hears the whole room. Both must be callers of this engine (`InvalidArgumentError` for a party
   * on another node) and `party` a talker (`InvalidStateError` for a listener). A muted coach is
   * heard by nobody; a held one, or one whose agent is held, by nobody until it comes back. When
   * `agent` leaves, `party` is muted and stops coaching, so the room never hears it unawares.
   */
  coach(party: ModerationTarget, agent: ModerationTarget): Promise<void> {
    return this.moderator.coach(party, agent, this.closed);
  }

  /** `party` stops coaching: the room hears it again, unless it is muted. */
  stopCoaching(party: ModerationTarget): Promise<void> {
    return this.moderator.coach(party, undefined, this.closed);
  }

  /**
   * Sets how loud a party hears the room: a gain in dB on its mix, from -60 to +6 (0 as it is;
   * FreeSWITCH's `volume_out`). Its private prompts (mute notes, a coach's whisper) keep their
   * level, and the limiter still keeps a boosted mix from clipping. Kept while it is in the room.
   */
  setListenVolume(party: ModerationTarget, db: number): Promise<void> {
    return this.setVolume({ action: 'listenVolume', listenVolumeDb: db }, party, db, LISTEN_VOLUME_DB);
  }

  /** `moderation`'s volume `db` checked here, before it may go to another node: RangeError outside `range`. */
  private setVolume(
    moderation: Moderation,
    party: ModerationTarget,
    db: number,
    range: { min: number; max: number }
  ): Promise<void> {
    try {
      checkVolumeDb(`${moderation.action}: db`, db, range);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.moderator.moderate(moderation, party, this.closed);
  }

  /** Takes a party off hold: it hears the room again, and the room hears it unless it is muted. */
  unhold(party: ModerationTarget): Promise<void> {
    return this.moderator.moderate({ action: 'unhold' }, party, this.closed);
  }

  /**
   * Says `text` to everyone in the room, after any announcement queued before it; resolves once it
   * has been played. A room that has not started yet refuses (`InvalidStateError`): its parties
   * hear their ringback, not the room.
   */
  async say(text: string, options: SayOptions = {}): Promise<void> {
    checkOptionKeys(options, SAY_OPTION_KEYS, 'say');
    const { signal, ...speech } = options ?? {};
    return this.play('say', () => textMedia('say', text, speech), signal);
  }

  /** Plays a WAV file from the engine's play folders to everyone in the room; see `say`. */
  async playFile(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkOptionKeys(options, ROOM_PLAY_FILE_OPTION_KEYS, 'playFile');
    return this.play('playFile', () => fileMedia('playFile', path), options?.signal);
  }

  /**
   * Ends the room: every party leaves it (reason 'roomDestroyed') and its call is retrieved, as
   * when a `destroyOnExit` party leaves; in a cluster, on every node. Ending an ended room does
   * nothing.
   */
  end(): void {
    this.room.end();
  }

  /**
   * Records the room into a WAV file at its rate inside the engine's `files.recordFolder`: what a
   * listener who says nothing would hear, every talker and announcement. Resolves once the file is
   * saved: after `stopRecording()`, the signal, `maxSeconds` (default and most 24 hours) or the
   * room's end. One recording at a time (`InvalidStateError`); `FileAccessError` as `record` on a
   * channel. On a cluster's node it holds the whole room: the trunk legs bring the other nodes.
   */
  async record(path: string, options: RecordOptions = {}): Promise<void> {
    const { maxSeconds, signal } = checkRecordArguments(path, options, MAX_RECORD_SECONDS);
    this.checkRecordable();
    const stops = this.stopsAsked;
    const target = await this.recordFolder.resolve(path);
    const recorder = await Recorder.create({ target, sampleRateHz: this.mix.sampleRateHz, maxSeconds });
    // Opening the file took turns: the room may have ended, or another recording begun. And the
    // core may have no party slot left.
    let recording: RoomRecorder;
    try {
      this.checkRecordable();
      // Stopped from a microtask, not inside the frame that filled it: the room's members are being walked.
      recording = new RoomRecorder(this.kernels, this.mix, recorder, () =>
        queueMicrotask(() => this.stopRecording())
      );
    } catch (error) {
      await recorder.save();
      throw error;
    }
    // stopRecording() came while the file was being opened: it was meant for this recording.
    if (this.stopsAsked !== stops) recording.close();
    else this.recording = recording;
    const onAbort = (): void => this.stopRecording();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.stopRecording();
    await recording.stopped;
    signal?.removeEventListener('abort', onAbort);
    await recorder.save();
  }

  /** Stops the room's recording, if one runs; its `record` resolves once the file is saved. */
  stopRecording(): void {
    this.stopsAsked++;
    const recording = this.recording;
    this.recording = undefined;
    recording?.close();
  }

  private checkRecordable(): void {
    if (this.closed) throw this.room.destroyedError('record');
    if (this.recording)
      throw new InvalidStateError('cannot record: a recording of the room is already running', {
        state: 'recording'
      });
  }

  /** @internal The room's cluster section lends its hooks while the room lives. */
  joinCluster(hooks: ClusterRoomHooks): void {
    this.moderator.joinCluster(hooks);
  }

  /** @internal In a cluster: the room's announcements take turns with the other nodes' through `floor` (undefined: no longer). */
  shareFloor(floor: AnnouncementFloor | undefined): void {
    this.mix.announcements.useFloor(floor);
  }

  /** @internal Another node asked: applies `moderation` to the party of channel `channelId` if it is a caller here. */
  async moderateHere(moderation: Moderation, channelId: string): Promise<boolean> {
    return !this.closed && this.moderator.moderateHere(moderation, channelId);
  }

  /** Queues one item for the whole room behind the announcements made so far; settles when it has been played. */
  private play(
    operation: 'say' | 'playFile',
    item: () => TextMedia | FileMedia,
    signal: AbortSignal | undefined
  ): Promise<void> {
    let media: TextMedia | FileMedia;
    try {
      media = item();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // Nobody hears a waiting room's mix: each party hears its ringback.
    if (this.closed || !this.room.started) {
      const state = this.closed ? 'destroyed' : this.room.state;
      return Promise.reject(
        InvalidStateError.forState(`room '${this.room.name}'`, state, ['started'], operation)
      );
    }
    const pcm = this.resolver.toPcm(media, this.mix.sampleRateHz);
    // Made ahead of the chain: a file refused at once, while the item ahead is still being made,
    // would reject with no handler yet and end the process; its caller gets the error below.
    pcm.catch(() => undefined);
    const queued = this.chain
      .then(() => pcm)
      .then((frames) => {
        if (this.closed) throw new ClosedError(`room '${this.room.name}'`);
        // Wrapped, so the chain goes on once it is queued rather than once it has been played.
        return { playing: this.mix.announcements.enqueue([frames], { signal }) };
      });
    this.chain = queued.then(
      ({ playing }) => {
        this.lastPlayed = playing.catch(() => undefined);
      },
      () => undefined
    );
    return queued.then(({ playing }) => playing);
  }

  /** Settles once every announcement made so far has been played out (or dropped). */
  announcementsPlayed(): Promise<void> {
    return this.chain.then(() => this.lastPlayed);
  }

  /** Who is talking in the room: the parties' talker detectors report here as well as on their channels. */
  reportTalking(party: Party, talking: boolean, levelDbfs: number): void {
    // A trunk leg's talkers are reported by their own node.
    if (this.moderator.isTrunkLeg(party)) return;
    if (talking) this.talkers.add(party);
    else if (!this.talkers.delete(party)) return; // stopped already, as it left
    this.safeEmit(talking ? 'talking' : 'stoppedTalking', { party, levelDbfs });
  }

  /** @internal `party`'s call is in the room's mix through `leg` (undefined: no longer), for the coaches' whispers. */
  attachLeg(party: Party, leg: MediaLeg | undefined): void {
    this.whispers.attach(party, leg);
  }

  /** A caller of another node of the cluster entered the room or left it. */
  reportRemoteParty(event: RemotePartyEvent, joined: boolean): void {
    if (joined) this.safeEmit('remotePartyJoined', { nodeId: event.nodeId, party: event.party });
    else
      this.safeEmit('remotePartyLeft', {
        nodeId: event.nodeId,
        party: event.party,
        reason: event.reason ?? 'left'
      });
  }

  /** A talker event of a party on another node of the cluster. */
  /** A muted party of this engine began talking (or was muted while it talked). */
  reportMutedTalking(party: Party, levelDbfs: number): void {
    if (this.moderator.isTrunkLeg(party)) return;
    this.safeEmit('mutedTalking', { party, levelDbfs });
  }

  /** A muted party of another node of the cluster began talking. */
  reportRemoteMutedTalking(event: RemoteTalkerEvent): void {
    this.safeEmit('remoteMutedTalking', event);
  }

  reportRemoteTalking(event: RemoteTalkerEvent, talking: boolean): void {
    this.safeEmit(talking ? 'remoteTalking' : 'remoteStoppedTalking', event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopRecording();
    this.whispers.close();
    this.loop.remove(this.mix);
    this.mix.close();
  }
}
