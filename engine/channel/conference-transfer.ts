/**
 * One retrievable transfer of a channel's call into a conference room (the spec's
 * `transfer_to_conference_room`). The outbound leg `otherCall` rings until the room starts, the
 * timeout expires or the original call hangs up; once the room has started the leg is answered,
 * the caller's media joins the room's mix, and the channel is TRANSFERRED. When the party leaves
 * the room (exit digit, `retrieveTransferredCall`, the room destroyed, the leg hung up) the call
 * comes back: the channel passes through RECONNECTING to ANSWERED and can play and transfer again.
 * Every listener, timer and wait is released on every path.
 */
import { Cause, State, TransferCause } from '../state.js';
import type { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';
import type { ConferenceLifetimeControl } from '../settings/conference-lifetime-control.js';
import type { ConferenceRoom } from '../conference/room.js';
import type { Party, LeaveReason } from '../conference/party.js';
import { waitForRoomStart } from '../conference/transfer-wait.js';
import type { MediaLeg } from '../media/media-leg.js';
import { muteTone, ringbackCycle } from '../media/tones.js';
import type { ChannelContext } from './channel-context.js';
import type { Logger } from 'pino';

export interface TransferOptions {
  /** Whether the party may talk as well as listen. Default true. */
  talkerAndListener?: boolean;
  conferenceLifetimeControl?: ConferenceLifetimeControl;
  conferencePartyMediaSettings?: ConferencePartyMediaSettings;
  /** Seconds allowed for the party to enter the room; default 120, null = no limit. */
  secondsTimeout?: number | null;
  /** Gives up waiting (as if the timeout had expired). */
  signal?: AbortSignal;
}

/** What a transfer may do to the channel that owns it. */
export interface TransferOwner {
  readonly id: string;
  /** The owner channel's call logger. */
  logger(): Logger;
  state(): State;
  setState(state: State): void;
  setTransferCause(cause: TransferCause): void;
  /** The transfer is over (failed, or the call was retrieved). */
  done(): void;
}

/** What a transfer may do to its outbound leg, the `otherCall` channel. */
export interface TransferLeg {
  readonly id: string;
  state(): State;
  setState(state: State): void;
  ended(cause: Cause): void;
}

export interface ConferenceTransferInit {
  owner: TransferOwner;
  leg: TransferLeg;
  media: MediaLeg;
  roomName: string;
  talkerAndListener: boolean;
  conferenceLifetimeControl: ConferenceLifetimeControl;
  conferencePartyMediaSettings: ConferencePartyMediaSettings;
  secondsTimeout: number | null;
  signal?: AbortSignal;
}

type AbortWhy = 'originalHungUp' | 'legHungUp' | 'retrieved' | 'signal';

export class ConferenceTransfer {
  readonly roomName: string;
  private readonly abort = new AbortController();
  private abortWhy: AbortWhy | undefined;
  private room: ConferenceRoom | undefined;
  private party: Party | undefined;
  private entered = false;
  private partyTalking = false;
  /** What the party hears while held (set by the room's 'holdChanged'). */
  private holdAudio: Int16Array | undefined;
  private finished = false;
  private running: Promise<State> | undefined;
  private readonly retrievalWaiters = new Set<() => void>();
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly ctx: ChannelContext,
    private readonly init: ConferenceTransferInit
  ) {
    this.roomName = init.roomName;
  }

  private log(): Logger {
    return this.init.owner.logger().child({ roomName: this.roomName });
  }

  /** Still waiting for the room or in it. */
  get active(): boolean {
    return !this.finished;
  }

  run(): Promise<State> {
    this.running ??= this.execute();
    return this.running;
  }

  private async execute(): Promise<State> {
    const { owner, leg, media } = this.init;
    const userSignal = this.init.signal;
    const onUserAbort = (): void => this.stopWaiting('signal');
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    owner.setTransferCause(TransferCause.NONE);
    owner.setState(State.TRANSFERRING);
    leg.setState(State.CALL_OUTGOING);
    try {
      // Given up before it began: it must not join, and so start the room for the others.
      if (userSignal?.aborted) return this.fail('signal');
      const { room, party } = this.ctx.rooms.join(this.roomName, {
        talkerAndListener: this.init.talkerAndListener,
        lifetime: this.init.conferenceLifetimeControl,
        media: this.init.conferencePartyMediaSettings,
        label: owner.id,
        channelId: owner.id
      });
      this.room = room;
      this.party = party;
      this.listen(room, party);
      if (!room.started && !party.left) {
        leg.setState(State.RING_OUTGOING);
        await this.playWaitingAudio();
      }
      if (userSignal?.aborted) this.stopWaiting('signal');
      const outcome = await waitForRoomStart(room, party, {
        secondsTimeout: this.init.secondsTimeout,
        signal: this.abort.signal
      });
      media.player.stopLoop();
      // The room may start in the same turn as the caller hangs up (or is retrieved): what came
      // first for the caller decides, or a party with no call behind it would join the mix.
      // And it may start and be destroyed in one turn (a startOnEntry+destroyOnExit party that
      // entered and left at once): this party is out then, with no room to enter.
      if (outcome === 'started' && this.abortWhy === undefined && room.has(party) && !room.destroyed)
        return this.enter(room, party);
      if (outcome === 'started' && this.abortWhy === undefined) return this.fail('left');
      room.leave(
        party,
        outcome === 'timeout' ? 'timeout' : this.abortWhy === 'retrieved' ? 'retrieved' : 'hangup'
      );
      return this.fail(
        outcome === 'timeout' ? 'timeout' : outcome === 'left' ? 'left' : (this.abortWhy ?? 'signal')
      );
    } catch (error) {
      this.fail('error');
      throw error;
    } finally {
      userSignal?.removeEventListener('abort', onUserAbort);
    }
  }

  /** The caller hears ringback (or the party's "conference stopped" file) while the leg rings. */
  private async playWaitingAudio(): Promise<void> {
    const { media } = this.init;
    const { onConferenceStoppedFile: stopped, ringbackTone } = this.init.conferencePartyMediaSettings;
    if (stopped === undefined) {
      media.player.startLoop(ringbackCycle(media.sampleRateHz, ringbackTone));
      return;
    }
    try {
      media.player.startLoop(
        await this.ctx.resolver.toPcm({ kind: 'file', path: stopped }, media.sampleRateHz)
      );
    } catch (error) {
      this.log().warn({ err: error }, 'onConferenceStoppedFile unusable, playing ringback');
      media.player.startLoop(ringbackCycle(media.sampleRateHz, ringbackTone));
    }
  }

  private enter(room: ConferenceRoom, party: Party): State {
    const { owner, leg, media } = this.init;
    this.entered = true;
    media.setTalkGainDb(party.talkVolumeDb);
    media.setListenGainDb(party.listenVolumeDb);
    const conference = this.ctx.conferenceMedia(room);
    if (party.held) this.held(room, party, true, this.holdAudio);
    else {
      media.moveTo(conference.mix);
      this.contribute(party);
    }
    conference.attachLeg(party, media);
    this.detach.push(() => conference.attachLeg(party, undefined));
    leg.setState(State.ANSWERED);
    owner.setTransferCause(TransferCause.NORMAL);
    owner.setState(State.TRANSFERRED);
    this.log().info({ partyId: party.id }, 'transferred into conference');
    // A party already talking when it enters (it began while it waited, or heard a prompt) is
    // talking in the room too: its detector reports only changes, and the next may be a stop.
    // Told on the next turn, so whoever awaited the transfer can listen for it first.
    const talkingOnEntry = setImmediate(() => this.tellTalkingNow());
    this.detach.push(() => clearImmediate(talkingOnEntry));
    return State.TRANSFERRED;
  }

  private fail(why: AbortWhy | 'timeout' | 'left' | 'error'): State {
    const { owner, leg } = this.init;
    const cause: Record<typeof why, TransferCause> = {
      timeout: TransferCause.TIMEOUT,
      left: TransferCause.TARGETHANGUP,
      originalHungUp: TransferCause.HANGUP,
      legHungUp: TransferCause.TARGETHANGUP,
      retrieved: TransferCause.NORMAL,
      signal: TransferCause.FAIL,
      error: TransferCause.FAIL
    };
    leg.ended(why === 'timeout' ? Cause.TIMEOUT : why === 'error' ? Cause.ERROR : Cause.NORMAL);
    owner.setTransferCause(cause[why]);
    this.log().info({ why }, 'transfer did not complete');
    if (owner.state() === State.TRANSFERRING) owner.setState(State.ANSWERED);
    this.finish();
    return owner.state();
  }

  private listen(room: ConferenceRoom, party: Party): void {
    const onLeft = ({ party: who, reason }: { party: Party; reason: LeaveReason }): void => {
      if (who === party && this.entered) this.retrieved(reason);
    };
    const onMute = ({ party: who, muted }: { party: Party; muted: boolean }): void => {
      if (who !== party || !this.entered) return;
      const { media } = this.init;
      this.contribute(party);
      if (muted) this.outOfHearing(room, party);
      this.tellTalkingNow();
      // Its keypad's or a moderator's: heard by this party alone, its private prompt added to its own mix-minus.
      if (party.media.muteTones)
        media.player.play([muteTone(media.sampleRateHz, muted)]).catch(() => undefined);
    };
    const onHold = ({
      party: who,
      held,
      audio
    }: {
      party: Party;
      held: boolean;
      audio: Int16Array | undefined;
    }): void => {
      if (who !== party) return;
      this.holdAudio = audio; // a party held while it waits is held when it enters
      if (this.entered) this.held(room, party, held, audio);
    };
    const onVolume = ({ party: who, db }: { party: Party; db: number }): void => {
      if (who === party && this.entered) this.init.media.setTalkGainDb(db);
    };
    const onListenVolume = ({ party: who, db }: { party: Party; db: number }): void => {
      if (who === party && this.entered) this.init.media.setListenGainDb(db);
    };
    const onCoaching = ({ party: who, agent }: { party: Party; agent: Party | undefined }): void => {
      if (who !== party || !this.entered || party.held) return;
      this.contribute(party);
      if (agent === undefined) this.tellTalkingNow();
      else this.outOfHearing(room, party);
    };
    room.on('partyLeft', onLeft);
    room.on('muteChanged', onMute);
    room.on('holdChanged', onHold);
    room.on('talkVolumeChanged', onVolume);
    room.on('coachingChanged', onCoaching);
    room.on('listenVolumeChanged', onListenVolume);
    this.detach.push(() => {
      room.off('partyLeft', onLeft);
      room.off('muteChanged', onMute);
      room.off('holdChanged', onHold);
      room.off('talkVolumeChanged', onVolume);
      room.off('coachingChanged', onCoaching);
      room.off('listenVolumeChanged', onListenVolume);
    });
  }

  /**
   * On hold the leg goes back to its own room, where it hears its hold audio (or nothing) and
   * nobody hears it, as while it waited for the room to start; off hold it comes back to the mix.
   */
  private held(room: ConferenceRoom, party: Party, held: boolean, audio: Int16Array | undefined): void {
    const { media } = this.init;
    if (held) {
      this.outOfHearing(room, party);
      media.returnToSolo();
      if (audio !== undefined && audio.length > 0) media.player.startLoop(audio);
      return;
    }
    media.player.stopLoop();
    media.moveTo(this.ctx.conferenceMedia(room).mix);
    this.contribute(party);
    this.tellTalkingNow();
  }

  /** The room no longer hears the party (muted, held, coaching, gone): a talker stops talking, as far as the room is concerned. */
  private outOfHearing(room: ConferenceRoom, party: Party): void {
    if (!this.partyTalking) return;
    this.partyTalking = false;
    this.ctx.conferenceMedia(room).reportTalking(party, false, -100);
  }

  /**
   * The party's hearing changed (entered, unmuted, muted, unheld, coaching stopped): one talking
   * now is told as talking (in the room, or muted), as its detector reports only changes.
   */
  private tellTalkingNow(): void {
    const { media } = this.init;
    if (media.talking) this.talking(true, media.levelDbfs);
  }

  /** The room hears the party unless it is muted or coaching (its voice then goes to its agent alone). */
  private contribute(party: Party): void {
    this.init.media.setContributing(party.talkerAndListener, party.muted || party.coaching !== undefined);
  }

  /** The party left the room: the call comes back to its channel. */
  private retrieved(reason: LeaveReason): void {
    if (this.finished) return;
    const { owner, leg, media } = this.init;
    if (this.room && this.party) this.outOfHearing(this.room, this.party);
    const originalGone = this.abortWhy === 'originalHungUp' || owner.state() === State.IDLE;
    media.player.stopLoop(); // its hold audio, if it was held
    media.setTalkGainDb(0);
    media.setListenGainDb(0);
    if (!originalGone) {
      media.returnToSolo();
      owner.setState(State.RECONNECTING);
    }
    owner.setTransferCause(
      originalGone
        ? TransferCause.HANGUP
        : this.abortWhy === 'legHungUp'
          ? TransferCause.TARGETHANGUP
          : TransferCause.NORMAL
    );
    leg.ended(Cause.NORMAL);
    if (!originalGone) owner.setState(State.ANSWERED);
    this.log().info({ reason }, 'retrieved from conference');
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const undo of this.detach.splice(0)) undo();
    this.init.owner.done();
    for (const wake of [...this.retrievalWaiters]) wake();
  }

  private stopWaiting(why: AbortWhy): void {
    this.abortWhy ??= why;
    this.abort.abort(why);
  }

  /** A digit pressed by the caller; true when the room took it (it is in the room). */
  handleDigit(digit: string): boolean {
    if (!this.entered || this.finished || !this.room || !this.party) return false;
    this.room.handleDigit(this.party, digit);
    return true;
  }

  /** The original call hung up: leave the room, end the leg. */
  originalHungUp(): void {
    if (this.finished) return;
    this.abortWhy ??= 'originalHungUp';
    if (this.entered) this.room?.leave(this.party as Party, 'hangup');
    else this.stopWaiting('originalHungUp');
  }

  /**
   * The application hung up `otherCall`: the party leaves, the caller is retrieved. Resolves once
   * the leg is IDLE: at once for a party in the room, after the wait has wound up for one ringing.
   */
  async legHungUp(): Promise<void> {
    if (this.finished) return;
    this.abortWhy ??= 'legHungUp';
    if (this.entered) {
      this.room?.leave(this.party as Party, 'hangup');
      return;
    }
    this.stopWaiting('legHungUp');
    // A failure of the transfer itself is the transferToConferenceRoom caller's to see, not hangUp's.
    await this.running?.catch(() => undefined);
  }

  /** `retrieveTransferredCall`: out of the room (or stop waiting for it). */
  async retrieve(): Promise<void> {
    if (this.finished) return;
    if (this.entered) {
      this.room?.leave(this.party as Party, 'retrieved');
      return;
    }
    this.stopWaiting('retrieved');
    await this.running;
  }

  waitForRetrieval(secondsTimeout: number | null, signal?: AbortSignal): Promise<void> {
    if (this.finished || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        this.retrievalWaiters.delete(wake);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.retrievalWaiters.add(wake);
      if (secondsTimeout !== null) timer = setTimeout(wake, secondsTimeout * 1000);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Whether the room hears `party`: its talker events are the room's only then (FreeSWITCH reports a muted member's as `mute-detect`, not `start-talking`). */
  private heardByRoom(party: Party): boolean {
    return party.talkerAndListener && !party.held && !party.muted && party.coaching === undefined;
  }

  /**
   * Talker events of the party, reported on the room's media; a muted one's start as
   * `mutedTalking` (not a held, coaching or listen-only one's: unmuted, the room would still not hear it).
   */
  talking(talking: boolean, levelDbfs: number): void {
    const party = this.party;
    if (!this.entered || this.finished || !this.room || !party) return;
    if (!this.heardByRoom(party)) {
      if (talking && party.talkerAndListener && party.muted && !party.held && party.coaching === undefined)
        this.ctx.conferenceMedia(this.room).reportMutedTalking(party, levelDbfs);
      return;
    }
    // The room hears changes of what it was told: not a stop for a start it never had, nor a
    // start the entry check above has told already.
    if (talking === this.partyTalking) return;
    this.partyTalking = talking;
    this.ctx.conferenceMedia(this.room).reportTalking(party, talking, levelDbfs);
  }
}
