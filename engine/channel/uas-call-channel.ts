/**
 * `UASCallChannel`: one call as the application drives it, modelled on the cloud API of
 * `transfer_to_conference_room.txt`. A channel answers or places a SIP call, plays prompts,
 * records, collects and sends DTMF, and transfers its call into a conference room, retrievably.
 *
 * State follows the original API: an incoming call is CALL_INCOMING → RING_INCOMING →
 * ANSWERING → ANSWERED; an outgoing one CALL_OUTGOING → RING_OUTGOING → ANSWERED; a call that
 * ends returns the channel to IDLE and `cause()` says why. The conference transfer itself lives
 * in `conference-transfer.ts`; this file owns the call and its media.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { nextChannelId } from './channel-id.js';
import { ClosedError, HangupError, InvalidArgumentError, InvalidStateError } from '../errors.js';
import { Cause, State, TransferCause, causeFromSipStatus } from '../state.js';
import { DigitMerger, type DtmfSource } from '../dtmf/digit-merger.js';
import { DigitCollector, type GetDigitsOptions } from '../dtmf/digit-collector.js';
import { parseDtmfDigit } from '../dtmf/dtmf-digit.js';
import { textMedia, fileMedia, type TextToSayOptions } from '../settings/media.js';
import { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';
import { ConferenceLifetimeControl } from '../settings/conference-lifetime-control.js';
import { checkRecordArguments, Recorder, type RecordOptions } from '../media/recorder.js';
import { stoppedError } from '../media/announcement-queue.js';
import { checkSecondsTimeout } from '../util/seconds-timeout.js';
import { checkOptionKeys, shown } from '../util/option-keys.js';
import { checkCallOptions } from './call-options.js';
import {
  CALL_OPTION_KEYS,
  GET_DIGITS_OPTION_KEYS,
  PLAY_FILE_OPTION_KEYS,
  PLAY_TEXT_OPTION_KEYS,
  SEND_DTMF_OPTION_KEYS,
  TRANSFER_OPTION_KEYS,
  WAIT_FOR_RETRIEVAL_OPTION_KEYS
} from './channel-option-keys.js';
import { SafeEmitter, isSipUri, parseUri, type AudioCodec, type IncomingInvite } from '../../sip/index.js';
import type { Logger } from 'pino';
import { callLogger } from '../observability/logger.js';
import type { ChannelContext } from './channel-context.js';
import type { RtpSessionStats } from '../rtp/rtp-session.js';
import { SipCall, type OutgoingCallOptions } from './sip-call.js';
import { StopRequests } from './stop-requests.js';
import {
  ConferenceTransfer,
  type TransferLeg,
  type TransferOptions,
  type TransferOwner
} from './conference-transfer.js';

/** Longest DTMF press or gap `sendDtmf` takes. */
const MAX_DTMF_MS = 5000;
/** Where a prompt asked for while ANSWERED still plays once its audio is ready. */
const PROMPT_STATES = [State.ANSWERED, State.TRANSFERRING, State.TRANSFERRED, State.RECONNECTING];

export type ChannelEvents = {
  stateChange: [{ state: State; previous: State }];
  dtmf: [{ digit: string; source: DtmfSource }];
  talking: [{ levelDbfs: number }];
  stoppedTalking: [{ levelDbfs: number }];
};

export interface CallOptions extends Omit<OutgoingCallOptions, 'signal' | 'pinToAnswer'> {
  /** Give up if not answered within this many seconds (default 60, null = no limit). */
  secondsTimeout?: number | null;
  signal?: AbortSignal;
}

export interface SendDtmfOptions {
  /** How long each digit is pressed (default 100 ms, 20 to 5000). */
  durationMs?: number;
  /** Pause after each digit (default 60 ms, 0 to 5000). */
  gapMs?: number;
}

export interface RetrievalWaitOptions {
  /** Give up after this many seconds (default null: no limit). */
  secondsTimeout?: number | null;
  signal?: AbortSignal;
}

export type { RecordOptions };

/** ChannelEvents' names, at run time: `on()` of another is a TypeError. */
const CHANNEL_EVENTS = {
  stateChange: true,
  dtmf: true,
  talking: true,
  stoppedTalking: true
} satisfies Record<keyof ChannelEvents, true>;

export class UASCallChannel extends SafeEmitter<ChannelEvents> {
  readonly id: string;
  #state: State;
  #cause: Cause = Cause.NORMAL;
  /** hangUp() came while answer() was under way: that answer resolves IDLE instead of failing. */
  #hungUpAnswering = false;
  #transferCause: TransferCause = TransferCause.NONE;
  #call: SipCall | undefined;
  /** The ended call's last RTP statistics: a peer's BYE ends it before anyone could ask. */
  #endedRtpStats: RtpSessionStats | undefined;
  /** The calls it places are pinned to their answer (forTrunkLeg). */
  #pinsToAnswer = false;
  #transfer: ConferenceTransfer | undefined;
  /** The last talker event told was 'talking': the call's end tells 'stoppedTalking' before IDLE. */
  #toldTalking = false;
  /** Set while this channel is the in-process outbound leg (`otherCall`) of another's transfer. */
  #legOf: ConferenceTransfer | undefined;
  #recording: { recorder: Recorder; done: () => void } | undefined;
  /** stopRecording() calls: a record() still opening its file sees one made meanwhile. */
  readonly #recordingStops = new StopRequests();
  /** Settles once the last prompt asked for is in the player's queue (or has failed): see #playInOrder. */
  #promptsQueued: Promise<void> = Promise.resolve();
  /** stopPlaying() calls: a prompt asked for before one is stopped even while its audio is still being made. */
  readonly #promptStops = new StopRequests();
  /** Aborted when the call ends: speech still being made for it is not waited for. */
  #callOver = callOverController();
  readonly #merger: DigitMerger;
  /** The outgoing call `call()` is placing, while it is: its abort, and when `call()` is done with it. */
  #placing: { abort: AbortController; giveUp: () => void; done: Promise<void> } | undefined;
  readonly #digits = new DigitCollector();
  readonly #ctx: ChannelContext;
  /** Every line carries the channel id, and the call id once there is a call. */
  #log: Logger;

  /** @internal channels come from `engine.createChannel()` or the engine's 'call' event. */
  constructor(ctx: ChannelContext, initialState: State = State.IDLE) {
    super(CHANNEL_EVENTS);
    // The class is exported for instanceof and types; one made with `new` has no engine behind it.
    if (typeof (ctx as Partial<ChannelContext> | null)?.logger?.child !== 'function')
      throw new TypeError(
        "UASCallChannel is not made with new: take one from engine.createChannel() (an outbound leg, a transfer's otherCall) or the engine's 'call' event"
      );
    this.#ctx = ctx;
    this.id = nextChannelId();
    this.#state = initialState;
    this.#log = ctx.logger.child({ channelId: this.id });
    this.#merger = new DigitMerger({ rateLimit: ctx.dtmfRateLimit });
    this.#merger.on('digit', ({ digit, source }) => this.#onDigit(digit, source));
  }

  /**
   * @internal a channel for a cluster node's trunk leg: the call it places takes its dialog's
   * requests only from where the owner's 2xx came (OutgoingInviteOptions.pinToAnswer).
   */
  static forTrunkLeg(ctx: ChannelContext): UASCallChannel {
    const channel = new UASCallChannel(ctx);
    channel.#pinsToAnswer = true;
    return channel;
  }

  /** @internal an incoming INVITE becomes a CALL_INCOMING channel. */
  static async fromIncoming(ctx: ChannelContext, invite: IncomingInvite): Promise<UASCallChannel> {
    const channel = new UASCallChannel(ctx, State.CALL_INCOMING);
    channel.#call = await SipCall.incoming(ctx, invite, channel.#callHooks());
    channel.#bindCallLog();
    channel.#log.info({ from: invite.remoteUri, to: invite.requestUri }, 'incoming call');
    channel.#call.endIfSessionOver();
    return channel;
  }

  get state(): State {
    return this.#state;
  }

  /** Why the last call ended. */
  cause(): Cause {
    return this.#cause;
  }

  /** How the last transfer attempt ended. */
  transferCause(): TransferCause {
    return this.#transferCause;
  }

  /** SIP Call-ID of the current call, if it is a SIP call. */
  get callId(): string | undefined {
    return this.#call?.session.callId;
  }

  get remoteUri(): string | undefined {
    return this.#call?.session.remoteUri;
  }

  get remoteDisplayName(): string | undefined {
    return this.#call?.session.remoteDisplayName;
  }

  /**
   * The username the caller's digest answer proved (`access.auth`), unlike `remoteUri` and
   * `remoteDisplayName`, which the caller writes as it likes; undefined without authentication
   * and for a call this channel placed.
   */
  get authenticatedUser(): string | undefined {
    const session = this.#call?.session;
    return session && 'authenticatedUser' in session ? session.authenticatedUser : undefined;
  }

  /** Request-URI of the incoming INVITE (e.g. sip:room1@host). */
  get requestUri(): string | undefined {
    return this.#call?.session.requestUri;
  }

  /**
   * The audio codec the current call's SDP agreed on (PCMU, PCMA, G722, L16), once it has; a
   * re-INVITE may change it. Undefined for a browser's WebRTC call (Opus, ended by @roamhq/wrtc).
   */
  get codec(): AudioCodec | undefined {
    return this.#call?.media.negotiated?.codec;
  }

  /**
   * RTP statistics of the current call's media (packets, loss, jitter, jitter buffer), if it has
   * media; once it ended (IDLE), its final ones.
   */
  rtpStats(): RtpSessionStats | undefined {
    if (this.#call) return this.#call.media.rtpSession?.stats();
    return this.#state === State.IDLE ? this.#endedRtpStats : undefined;
  }

  /**
   * Where an incoming call's SIP request came from (an IP address), or through a trusted proxy
   * (`access.trustedProxies`) the caller's address it names; for a caller behind NAT that moved
   * mid-call, where its requests come from now. Undefined for a call placed.
   */
  get signallingAddress(): string | undefined {
    return this.#call?.signallingAddress;
  }

  /** @internal the join page's pass to this call's room's participant list (browsers' calls only). */
  get rosterToken(): string | undefined {
    return this.#call?.rosterToken;
  }

  /**
   * @internal whether this channel is a transfer's `otherCall` leg: a channel the spec's model
   * needs, carrying no SIP dialog of its own (the engine counts calls without it).
   */
  get isTransferLeg(): boolean {
    return this.#legOf !== undefined;
  }

  /** The conference room this channel's call is in or waiting for. */
  get conferenceRoomName(): string | undefined {
    return this.#transfer?.roomName ?? this.#legOf?.roomName;
  }

  // ---- incoming calls -------------------------------------------------------------------

  /** Tells the caller it is ringing (180). */
  async ring(): Promise<State> {
    this.#expect('ring', [State.CALL_INCOMING]);
    this.#call?.ring();
    this.#setState(State.RING_INCOMING);
    return this.#state;
  }

  /** Answers the incoming call: 200 OK with our SDP answer, ANSWERED once the ACK arrives. */
  async answer(): Promise<State> {
    this.#expect('answer', [State.CALL_INCOMING, State.RING_INCOMING]);
    const call = this.#call as SipCall;
    this.#setState(State.ANSWERING);
    this.#hungUpAnswering = false;
    try {
      await call.answer();
    } catch (error) {
      // The application hung up while answering: the answer lost a race it started, no failure.
      if (this.#hungUpAnswering) return State.IDLE;
      if (this.#state !== State.IDLE) this.#ended(Cause.FAILED);
      throw error;
    }
    if (this.#state === State.ANSWERING) this.#setState(State.ANSWERED);
    return this.#state;
  }

  // ---- outgoing calls -------------------------------------------------------------------

  /** Places a SIP call to `target` (a SIP URI); resolves with ANSWERED, or IDLE with `cause()`. */
  async call(target: string, options: CallOptions = {}): Promise<State> {
    if (typeof target !== 'string')
      throw new TypeError(`call: target must be a string (a SIP URI), got ${shown(target)}`);
    if (!isCallTarget(target)) {
      throw new InvalidArgumentError(
        'target',
        `call target must be a SIP URI (sip:user@host) without headers, got '${String(target).slice(0, 200)}'`
      );
    }
    checkOptionKeys(options, CALL_OPTION_KEYS, 'call');
    const { secondsTimeout = 60, signal, ...sip } = options;
    checkSecondsTimeout('call: secondsTimeout', secondsTimeout, false);
    checkCallOptions(sip);
    this.#expect('call', [State.IDLE]);
    // The leg of a transfer that is starting is IDLE until the transfer rings it, and a listener
    // of the owner's TRANSFERRING may call in between: the leg's own call was never hung up.
    if (this.#legOf)
      throw new InvalidStateError(`cannot call: channel ${this.id} is the leg of a transfer`, {
        state: this.#state,
        expected: [State.IDLE]
      });
    // A call placed while the engine stops would be answered after its BYEs went out, and left up.
    if (!this.#ctx.takesCalls())
      throw new InvalidStateError('cannot call: the engine is stopping', {
        state: 'stopping',
        expected: ['running']
      });
    // Given up before it began, as by a hang-up before it rang: its 'abort' event has fired already.
    if (signal?.aborted) {
      this.#cause = Cause.NORMAL;
      return this.#state;
    }
    const abort = new AbortController();
    // The timeout and the caller's signal settle call() at once, as hangUp() does before the call
    // rings. RFC 3261 §9.1 holds the CANCEL back until a provisional response: before one, waiting
    // for the INVITE to end is waiting for Timer B (64·T1, 32 s), long past the seconds asked for.
    let giveUp = (): void => undefined;
    const givenUp = new Promise<undefined>((resolve) => (giveUp = () => resolve(undefined)));
    const onAbort = (): void => {
      abort.abort(signal?.reason);
      giveUp();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      secondsTimeout === null
        ? undefined
        : setTimeout(() => {
            abort.abort('timeout');
            giveUp();
          }, secondsTimeout * 1000);
    this.#cause = Cause.NORMAL;
    this.#setState(State.CALL_OUTGOING);
    let settle = (): void => undefined;
    const placing = { abort, giveUp, done: new Promise<void>((resolve) => (settle = resolve)) };
    this.#placing = placing;
    try {
      const placed = SipCall.outgoing(
        this.#ctx,
        target,
        { ...sip, signal: abort.signal, pinToAnswer: this.#pinsToAnswer },
        this.#callHooks(),
        (status) => {
          // A call given up on rings on in the background: its 180 is not the next call's.
          if (status >= 180 && this.#state === State.CALL_OUTGOING && this.#placing === placing)
            this.#setState(State.RING_OUTGOING);
        }
      );
      const call = await Promise.race([placed, givenUp]);
      if (call === undefined) {
        // An answer already on its way when we gave up is hung up when it comes.
        void placed.then(
          (late) => late.hangUp(),
          () => undefined
        );
        throw new HangupError(`call: channel ${this.id} gave up before an answer`);
      }
      if (abort.signal.aborted) {
        // Hung up (or timed out) while the answer was on its way: the call ends at once.
        await call.hangUp();
        throw new HangupError(`call: channel ${this.id} was hung up before the answer`);
      }
      this.#call = call;
      this.#endedRtpStats = undefined;
      this.#bindCallLog();
      this.#log.info({ to: target }, 'outgoing call answered');
      this.#setState(State.ANSWERED);
    } catch (error) {
      // Hung up while ringing: hangUp() ended the channel, which may have placed its next call since.
      if (this.#placing !== placing) return State.IDLE;
      const status = (error as { status?: number }).status;
      const cause =
        abort.signal.aborted && abort.signal.reason === 'timeout'
          ? Cause.NOANSWER
          : typeof status === 'number'
            ? causeFromSipStatus(status)
            : abort.signal.aborted || error instanceof HangupError
              ? Cause.NORMAL
              : Cause.FAILED;
      this.#ended(cause);
    } finally {
      if (this.#placing === placing) this.#placing = undefined;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    }
    return this.#state;
  }

  // ---- ending ---------------------------------------------------------------------------

  /**
   * Ends whatever call the channel has; the channel returns to IDLE. Resolves with IDLE, the state
   * the call it ended reached, like a stale call() does: a call() placed before this resolves is
   * the channel's next call, not this one's outcome. It resolves once the far end has answered
   * the BYE or CANCEL; an outgoing call that has not rung yet is given up at once.
   */
  async hangUp(): Promise<State> {
    if (this.#state === State.IDLE) return State.IDLE;
    if (this.#state === State.ANSWERING) this.#hungUpAnswering = true;
    if (this.#legOf) {
      await this.#legOf.legHungUp();
      return State.IDLE;
    }
    this.#transfer?.originalHungUp();
    // A call still being placed is cancelled (CANCEL, or BYE if its answer crosses it). A ringing
    // one is waited for, like a BYE: until its INVITE has ended (487, or §9.1's 64·T1 give-up).
    // One that has not rung may never have reached anyone (no response at all: Timer B's 32 s);
    // it is given up at once, as call()'s timeout does, and its INVITE ends in the background.
    const placing = this.#placing;
    this.#placing = undefined;
    placing?.abort.abort('hangup');
    if (this.#state === State.CALL_OUTGOING) placing?.giveUp();
    const call = this.#call;
    this.#ended(Cause.NORMAL);
    await Promise.all([call?.hangUp(), placing?.done]);
    return State.IDLE;
  }

  // ---- media ----------------------------------------------------------------------------

  /**
   * Says `text` to the caller and resolves when it has been played. A hang-up while the speech is
   * still being made drops it from the synthesis queue unless another call waits for the same.
   */
  async playText(text: string, options: TextToSayOptions & { signal?: AbortSignal } = {}): Promise<void> {
    checkOptionKeys(options, PLAY_TEXT_OPTION_KEYS, 'playText');
    const { signal, ...speak } = options;
    const item = textMedia('playText', text, speak);
    const media = this.#mediaFor('play');
    const callOver = this.#callOver.signal;
    const pcm = this.#ctx.resolver.toPcm(item, media.sampleRateHz, callOver).catch((error: unknown) => {
      if (callOver.aborted) throw new HangupError(`playText: channel ${this.id} has hung up`);
      throw error;
    });
    await this.#playInOrder('playText', pcm, signal);
  }

  /**
   * Plays a WAV file to the caller and resolves when it has been played. A hang-up while the file
   * is still being decoded drops it from the decoding queue unless another call waits for the same.
   */
  async playFile(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkOptionKeys(options, PLAY_FILE_OPTION_KEYS, 'playFile');
    const item = fileMedia('playFile', path);
    const media = this.#mediaFor('play');
    const callOver = this.#callOver.signal;
    const pcm = this.#ctx.resolver.toPcm(item, media.sampleRateHz, callOver).catch((error: unknown) => {
      if (callOver.aborted) throw new HangupError(`playFile: channel ${this.id} has hung up`);
      throw error;
    });
    await this.#playInOrder('playFile', pcm, options.signal);
  }

  /** Stops any prompt being played to the caller; their Promises reject. */
  stopPlaying(): void {
    this.#promptStops.ask();
    this.#call?.media.player.stopPrompts();
  }

  /** Records what the caller says into a WAV file; resolves once saved (max length, stop, hang-up). */
  async record(path: string, options: RecordOptions = {}): Promise<void> {
    const { maxSeconds, signal } = checkRecordArguments(path, options, 60);
    this.#mediaFor('record');
    const stopped = this.#recordingStops.since();
    const target = await this.#ctx.recordFolder.resolve(path);
    const media = this.#mediaFor('record');
    if (this.#recording)
      throw new InvalidStateError('cannot record: a recording is already running', { state: 'recording' });
    const recorder = await Recorder.create({ target, sampleRateHz: media.sampleRateHz, maxSeconds });
    // Opening the file took a turn: the call may have ended, or another recording begun.
    let live: typeof media;
    try {
      live = this.#mediaFor('record');
      if (this.#recording)
        throw new InvalidStateError('cannot record: a recording is already running', { state: 'recording' });
    } catch (error) {
      await recorder.save();
      throw error;
    }
    // stopRecording() came while the file was being opened: it was meant for this recording.
    if (stopped()) return recorder.save();
    await new Promise<void>((resolve) => {
      const onAbort = (): void => this.stopRecording();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#recording = {
        recorder,
        done: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
      };
      live.startRecording(recorder);
      if (signal?.aborted) this.stopRecording();
    });
    await recorder.save();
  }

  stopRecording(): void {
    this.#recordingStops.ask();
    const recording = this.#recording;
    if (!recording) return;
    this.#recording = undefined;
    this.#call?.media.stopRecording();
    recording.done();
  }

  /** Collects digits the caller presses (in-band, RFC 4733 and SIP INFO, merged). */
  async getDigits(options: GetDigitsOptions = {}): Promise<string> {
    checkOptionKeys(options, GET_DIGITS_OPTION_KEYS, 'getDigits');
    this.#mediaFor('getDigits');
    return this.#digits.getDigits(options);
  }

  clearDigits(): void {
    this.#digits.clearDigits();
  }

  /** Sends digits to the caller as RFC 4733 events, one after the other. */
  async sendDtmf(digits: string, options: SendDtmfOptions = {}): Promise<void> {
    if (typeof digits !== 'string' || digits.length === 0)
      throw new TypeError('sendDtmf: digits must be a non-empty string');
    const parsed = [...digits].map((d) => parseDtmfDigit('digits', d));
    checkOptionKeys(options, SEND_DTMF_OPTION_KEYS, 'sendDtmf');
    const { durationMs = 100, gapMs = 60 } = options;
    // RFC 4733's duration field holds at most 65535 samples (8.2 s at 8 kHz); a press is ~100 ms.
    checkDtmfMs('durationMs', durationMs, 20);
    checkDtmfMs('gapMs', gapMs, 0);
    const media = this.#mediaFor('sendDtmf');
    const call = this.#call;
    // The call may end between two digits, or in one: said as every other operation says it.
    const hungUp = (): HangupError => new HangupError(`sendDtmf: channel ${this.id} has hung up`);
    for (const digit of parsed) {
      if (this.#call !== call) throw hungUp();
      try {
        await media.sendDtmf(digit, durationMs);
      } catch (error) {
        if (error instanceof ClosedError && this.#call !== call) throw hungUp();
        throw error;
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  // ---- the conference transfer ----------------------------------------------------------

  /**
   * Transfers this answered call into the conference room `conferenceRoomName` through the
   * outbound leg `otherCall` (an IDLE channel). Resolves with the channel's state:
   * `State.TRANSFERRED` on success; otherwise `transferCause()` says why.
   */
  async transferToConferenceRoom(
    otherCall: UASCallChannel,
    conferenceRoomName: string,
    options: TransferOptions = {}
  ): Promise<State> {
    if (!(otherCall instanceof UASCallChannel) || !(#ctx in otherCall))
      throw new TypeError('otherCall must be a UASCallChannel');
    if (otherCall === this)
      throw new InvalidArgumentError('otherCall', 'otherCall must be another channel than this one');
    // Another engine's channel would be its leg there and a party here: stopping that engine
    // would end a call of this one. An engine's channels share its room registry (a trunk leg's
    // context differs from its callers' in its DTMF listening only).
    if (otherCall.#ctx.rooms !== this.#ctx.rooms)
      throw new InvalidArgumentError('otherCall', 'otherCall must be a channel of this engine');
    this.#ctx.rooms.validateName(conferenceRoomName);
    const resolved = resolveTransferOptions(options);
    this.#expect('transferToConferenceRoom', [State.ANSWERED]);
    const media = this.#ownCall('transferToConferenceRoom').media;
    if (otherCall.state !== State.IDLE) {
      throw InvalidStateError.forState(
        `otherCall ${otherCall.id}`,
        otherCall.state,
        [State.IDLE],
        'transferToConferenceRoom'
      );
    }
    const transfer = new ConferenceTransfer(this.#ctx, {
      owner: this.#transferHost(),
      leg: otherCall.#legHost(),
      media,
      roomName: conferenceRoomName,
      ...resolved
    });
    this.#transfer = transfer;
    otherCall.#legOf = transfer;
    try {
      await transfer.run();
      // The spec returns the channel state: the party may have entered and left again before this
      // resumes (its room destroyed in the same turn), and TRANSFERRED then sent the spec's own
      // example on to waitForTransferredCallRetrieval() on an ANSWERED channel.
      return this.#state;
    } finally {
      if (this.#state !== State.TRANSFERRED) this.#transfer = transfer.active ? transfer : undefined;
    }
  }

  /** Takes a transferred call back out of its conference room; resolves with the new state. */
  async retrieveTransferredCall(): Promise<State> {
    if (this.#state === State.IDLE)
      throw new HangupError(`cannot retrieveTransferredCall: channel ${this.id} has hung up`);
    const transfer = this.#transfer;
    if (!transfer || (this.#state !== State.TRANSFERRED && this.#state !== State.TRANSFERRING)) {
      throw InvalidStateError.forState(
        `channel ${this.id}`,
        this.#state,
        [State.TRANSFERRED, State.TRANSFERRING],
        'retrieveTransferredCall'
      );
    }
    await transfer.retrieve();
    return this.#state;
  }

  /**
   * Waits until the transferred call comes back (exit digit, room destroyed, leg hung up),
   * `secondsTimeout` passes or `signal` aborts (already aborted: at once); resolves with the
   * state then (TRANSFERRED if it timed out or was aborted).
   */
  async waitForTransferredCallRetrieval(options: RetrievalWaitOptions = {}): Promise<State> {
    checkOptionKeys(options, WAIT_FOR_RETRIEVAL_OPTION_KEYS, 'waitForTransferredCallRetrieval');
    const { secondsTimeout = null, signal } = options;
    checkSecondsTimeout('waitForTransferredCallRetrieval: secondsTimeout', secondsTimeout, true);
    if (this.#state === State.IDLE)
      throw new HangupError(`cannot waitForTransferredCallRetrieval: channel ${this.id} has hung up`);
    const transfer = this.#transfer;
    if (!transfer || this.#state !== State.TRANSFERRED) {
      throw InvalidStateError.forState(
        `channel ${this.id}`,
        this.#state,
        [State.TRANSFERRED],
        'waitForTransferredCallRetrieval'
      );
    }
    await transfer.waitForRetrieval(secondsTimeout, signal);
    return this.#state;
  }

  // ---- internals ------------------------------------------------------------------------

  #expect(operation: string, allowed: State[]): void {
    if (allowed.includes(this.#state)) return;
    if (this.#state === State.IDLE && !allowed.includes(State.IDLE)) {
      throw new HangupError(
        `cannot ${operation}: channel ${this.id} is IDLE (the call has hung up or was never made)`
      );
    }
    throw InvalidStateError.forState(`channel ${this.id}`, this.#state, allowed, operation);
  }

  /** The media of an answered call that is not transferred (the audio path is ours). */
  #mediaFor(operation: string): SipCall['media'] {
    this.#expect(operation, [State.ANSWERED]);
    return this.#ownCall(operation).media;
  }

  /** The channel's SIP call; a transfer's conference leg is ANSWERED without one of its own. */
  #ownCall(operation: string): SipCall {
    const call = this.#call;
    if (call === undefined)
      throw new InvalidStateError(
        `cannot ${operation}: channel ${this.id} is a transfer's conference leg and carries no call of its own`,
        { state: this.#state, expected: [State.ANSWERED] }
      );
    return call;
  }

  /**
   * Plays a prompt after every prompt asked for before it, whichever is ready first: their audio
   * is made at the same time (a long text takes longer to synthesise than a short file takes to
   * read), and each is queued once those before it are queued, or have failed.
   */
  async #playInOrder(operation: string, pcm: Promise<Int16Array>, signal?: AbortSignal): Promise<void> {
    const earlier = this.#promptsQueued;
    const stopped = this.#promptStops.since();
    let queued = (): void => undefined;
    this.#promptsQueued = new Promise<void>((resolve) => (queued = resolve));
    try {
      const parts = [await pcm];
      await earlier;
      // A barge-in's stopPlaying() came while this prompt was still being synthesised or decoded.
      if (stopped()) throw stoppedError();
      // Queued in this turn: the player's queue takes it before `queued` lets the next one in.
      const playing = this.#playPcm(operation, parts, signal);
      queued();
      await playing;
    } finally {
      queued();
    }
  }

  async #playPcm(operation: string, parts: Int16Array[], signal?: AbortSignal): Promise<void> {
    // Asked for while ANSWERED, its audio ready only now: a transfer meanwhile does not refuse it
    // (InvalidStateError, for a call made in the right state), as it does not stop a prompt
    // already playing; the caller hears it waiting for the room or in it.
    this.#expect(operation, PROMPT_STATES);
    const media = this.#ownCall(operation).media;
    try {
      // A signal aborted already is refused by the queue as one aborted while it plays (ERR_PROMPT_STOPPED).
      // The signal stops this prompt only; stopPlaying() stops them all.
      await media.player.play(parts, signal);
    } catch (error) {
      // The call's end closed its player: say so, as every other operation does.
      if (error instanceof ClosedError && this.#state === State.IDLE)
        throw new HangupError(`${operation}: channel ${this.id} has hung up`);
      throw error;
    }
  }

  #bindCallLog(): void {
    const callId = this.#call?.session.callId;
    if (callId !== undefined) this.#log = callLogger(this.#ctx.logger, { callId, channelId: this.id });
  }

  #setState(state: State): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.safeEmit('stateChange', { state, previous });
  }

  /** The call is over: release its media, settle pending work, back to IDLE. */
  #ended(cause: Cause): void {
    if (this.#state === State.IDLE) return;
    this.#cause = cause;
    this.#endedRtpStats = this.rtpStats();
    this.#log.info({ cause }, 'call ended');
    this.stopRecording();
    // A collection under way would otherwise wait for digits that cannot come, for good.
    this.#digits.cancel(new HangupError(`getDigits: channel ${this.id} has hung up`));
    this.#digits.clearDigits();
    // Our hang-up closes the media after IDLE: its talker's last stop would come after the end.
    if (this.#toldTalking) this.#tellTalking(false, this.#call?.media.levelDbfs ?? -100);
    this.#callOver.abort();
    this.#callOver = callOverController();
    this.#call = undefined;
    this.#setState(State.IDLE);
  }

  #tellTalking(talking: boolean, levelDbfs: number): void {
    this.#toldTalking = talking;
    this.safeEmit(talking ? 'talking' : 'stoppedTalking', { levelDbfs });
  }

  /** A digit over `dtmfRateLimit`: counted each time, logged on the first of a burst only. */
  #digitDropped(source: DtmfSource): void {
    this.#ctx.metrics.dtmfDigitDropped(source);
    if (this.#merger.limitedInBurst !== 1) return;
    const { digitsPerSecond, burstDigits } = this.#ctx.dtmfRateLimit;
    this.#log.warn(
      { source, digitsPerSecond, burstDigits },
      'DTMF digits arrive faster than dtmfRateLimit: dropping the excess until they slow down'
    );
  }

  #onDigit(digit: string, source: DtmfSource): void {
    this.#ctx.metrics.dtmfDigit(source);
    this.safeEmit('dtmf', { digit, source });
    if (this.#transfer?.handleDigit(digit)) return;
    this.#digits.push(digit);
  }

  #callHooks() {
    return {
      remoteEnded: (cause: Cause, detail?: string): void => {
        if (detail !== undefined) this.#log.warn({ cause }, detail);
        this.#transfer?.originalHungUp();
        this.#ended(cause);
      },
      digit: (observation: Parameters<DigitMerger['push']>[0]): void => {
        // Hung up between our 200 and its ACK, the dialog lives on until the BYE may go: not the application's.
        if (this.#state === State.IDLE) return;
        const result = this.#merger.push(
          observation.startMs === undefined ? { ...observation, startMs: performance.now() } : observation
        );
        if (result === 'limited') this.#digitDropped(observation.source);
      },
      talking: (talking: boolean, levelDbfs: number): void => {
        // A call that has ended tells nothing more (its stop was told as it ended).
        if (this.#state === State.IDLE || talking === this.#toldTalking) return;
        this.#tellTalking(talking, levelDbfs);
        this.#transfer?.talking(talking, levelDbfs);
      },
      recordingFull: (): void => this.stopRecording(),
      // Once a call: what a caller hears as "my keypad does nothing" shows in the log, not only in a metric.
      strangerMedia: (dropped: number): void =>
        this.#log.warn(
          { dropped, peer: this.rtpStats()?.remoteAddress, latching: this.#ctx.latching ?? 'strict' },
          "RTP arrives, but none from the call's peer: dropped as a stranger's (its SDP or signalling names another address; rtp.latching)"
        )
    };
  }

  /** What a transfer may do to the channel that owns it. */
  #transferHost(): TransferOwner {
    return {
      id: this.id,
      logger: () => this.#log,
      state: () => this.#state,
      setState: (state: State) => this.#setState(state),
      setTransferCause: (cause: TransferCause) => {
        this.#transferCause = cause;
      },
      done: () => {
        this.#transfer = undefined;
      }
    };
  }

  /** What a transfer may do to its outbound leg (`otherCall`). */
  #legHost(): TransferLeg {
    return {
      id: this.id,
      state: () => this.#state,
      setState: (state: State) => this.#setState(state),
      ended: (cause: Cause) => {
        this.#legOf = undefined;
        this.#cause = cause;
        this.#setState(State.IDLE);
      }
    };
  }

  /** @internal the engine refuses an incoming call nobody answered in time (480, NOANSWER). */
  async refuseUnanswered(): Promise<void> {
    if (this.#state !== State.CALL_INCOMING && this.#state !== State.RING_INCOMING) return;
    const call = this.#call;
    this.#ended(Cause.NOANSWER);
    await call?.hangUp();
  }

  /** @internal engine shutdown: end the call without ceremony. */
  async close(): Promise<void> {
    await this.hangUp();
    this.#merger.close();
    this.#digits.close();
    this.removeAllListeners();
    this.#ctx.channelClosed(this.id);
  }
}

function resolveTransferOptions(
  options: TransferOptions
): Required<Omit<TransferOptions, 'signal'>> & { signal?: AbortSignal } {
  if (options === null || typeof options !== 'object')
    throw new TypeError('transfer options must be an object');
  checkOptionKeys(options, TRANSFER_OPTION_KEYS, 'transferToConferenceRoom');
  const {
    talkerAndListener = true,
    conferenceLifetimeControl = new ConferenceLifetimeControl(),
    conferencePartyMediaSettings = new ConferencePartyMediaSettings(),
    secondsTimeout = 120,
    signal
  } = options;
  if (typeof talkerAndListener !== 'boolean')
    throw new TypeError(`talkerAndListener must be a boolean, got ${typeof talkerAndListener}`);
  if (!(conferenceLifetimeControl instanceof ConferenceLifetimeControl)) {
    throw new TypeError('conferenceLifetimeControl must be a ConferenceLifetimeControl');
  }
  if (!(conferencePartyMediaSettings instanceof ConferencePartyMediaSettings)) {
    throw new TypeError('conferencePartyMediaSettings must be a ConferencePartyMediaSettings');
  }
  checkSecondsTimeout('secondsTimeout', secondsTimeout, true);
  return {
    talkerAndListener,
    conferenceLifetimeControl,
    conferencePartyMediaSettings,
    secondsTimeout,
    signal
  };
}

/** A `sendDtmf` time in ms: TypeError for a value that is no number, RangeError outside `min`..MAX_DTMF_MS. */
function checkDtmfMs(name: string, ms: unknown, min: number): void {
  if (typeof ms !== 'number')
    throw new TypeError(`sendDtmf: ${name} must be a number of ms, got ${shown(ms)}`);
  if (!(ms >= min && ms <= MAX_DTMF_MS))
    throw new RangeError(
      `sendDtmf: ${name} must be a number from ${min} to ${MAX_DTMF_MS}, got ${String(ms)}`
    );
}

/** A SIP or SIPS URI with a host: what `call` can place a call to (`sip:` alone, or `sip:@@@`, cannot). */
function isCallTarget(target: unknown): target is string {
  if (typeof target !== 'string') return false;
  try {
    const uri = parseUri(target);
    // A Request-URI carries no header components (RFC 3261 §19.1.1): a callee answers 400.
    return isSipUri(uri) && uri.headers.size === 0;
  } catch {
    return false;
  }
}

/**
 * The end of a call as a signal: each prompt still being made waits on it, so a channel with a
 * few dozen queued is no listener leak (Node warns past 10 by default).
 */
function callOverController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
