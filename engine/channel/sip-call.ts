/**
 * One SIP call of a channel, either direction: the INVITE dialog from the SIP stack and the media
 * leg it negotiated. It turns SIP events (BYE, CANCEL, INFO digits, re-INVITE offers) into calls
 * on the channel's hooks and owns the release of its ports, party slot and timers.
 */
import { randomBytes } from 'node:crypto';
import {
  SdpNegotiationError,
  SdpParseError,
  SipError,
  unmappedAddress,
  offeredAudioAddress,
  warningHeaders,
  parseUri,
  type IncomingInvite,
  type OutgoingInvite,
  type OutgoingInviteOptions
} from '../../sip/index.js';
import { Cause } from '../state.js';
import { HangupError, InvalidStateError } from '../errors.js';
import type { DtmfObservation } from '../dtmf/digit-merger.js';
import { MediaLeg } from '../media/media-leg.js';
import type { ChannelContext } from './channel-context.js';
import { ROSTER_TOKEN_HEADER } from '../webrtc/roster-token.js';
import { WebRtcBusyError } from '../webrtc/peer-connection-gate.js';

export interface SipCallHooks {
  /** The far end ended the call (BYE, CANCEL, failure, silence); not called for our own hang-up. */
  remoteEnded(cause: Cause, detail?: string): void;
  digit(observation: DtmfObservation): void;
  talking(talking: boolean, levelDbfs: number): void;
  recordingFull(): void;
  /** The call's RTP comes only from addresses it does not take media from (see MediaLegEvents). */
  strangerMedia(dropped: number): void;
}

/** What `UASCallChannel.call` passes to the SIP stack's INVITE (the SDP offer is ours). */
export type OutgoingCallOptions = Omit<OutgoingInviteOptions, 'body'>;

/**
 * An offer we cannot take, as the SIP stack answers it (400 for malformed SDP, else 488 Not
 * Acceptable Here, RFC 3261 §21.4.26) and as the caller of `answer()` sees it.
 */
function offerRejected(error: { message: string; status: number }): SipError {
  return new SipError(
    'ERR_SIP_REJECTED',
    error.message,
    error.status,
    error.status === 400 ? 'Bad Request' : 'Not Acceptable Here'
  );
}

/** An SDP error as the offer's rejection (`offerRejected`); anything else as it is. */
function asOfferRejection(error: unknown): unknown {
  return error instanceof SdpNegotiationError || error instanceof SdpParseError
    ? offerRejected(error)
    : error;
}

/**
 * The caller's address: the one a trusted proxy in front names (the proxy's own would match
 * none of the caller's media), else where its INVITE came from.
 */
function signallingAddressOf(invite: IncomingInvite): string {
  return unmappedAddress(invite.callerAddress);
}

/** The host of a call's target URI when it is an IP literal: where its INVITE goes. */
function targetAddress(target: string): string | undefined {
  try {
    const uri = parseUri(target);
    return 'host' in uri ? unmappedAddress(uri.host.replace(/^\[|\]$/g, '')) : undefined;
  } catch {
    return undefined;
  }
}

export class SipCall {
  private ended = false;
  private established = false;

  /**
   * A call that came in over the WebSocket (a browser's) gets this in its 200 OK: the join page
   * shows its room's participant list to whoever presents it (engine/webrtc/roster-token.ts).
   */
  readonly rosterToken: string | undefined;

  /** Where an incoming call's SIP request came from (its latest, for a caller behind NAT that moved); undefined for a call we placed. */
  get signallingAddress(): string | undefined {
    return this.incomingInvite && this.media.signallingAddress;
  }

  private constructor(
    readonly session: IncomingInvite | OutgoingInvite,
    readonly media: MediaLeg,
    private readonly hooks: SipCallHooks,
    private readonly incomingInvite: IncomingInvite | undefined,
    private readonly outgoingInvite: OutgoingInvite | undefined
  ) {
    if (incomingInvite?.protocol === 'ws') this.rosterToken = randomBytes(16).toString('base64url');
    // An SDP error reaches the stack as it is: it reads its status and warning (OfferRejection).
    session.offerHandler = (offer: string) => this.media.answer(offer);
    session.offerProvider = () => {
      try {
        return this.media.offer();
      } catch (error) {
        throw asOfferRejection(error);
      }
    };
    session.answerHandler = (answer) => this.takeAnswer(answer);
    session.refreshAnswerHandler = (offer, answer) => this.media.acceptRepeatAnswer(offer, answer);
    media.onMediaFailed = () => this.mediaFailed();
    session.on('info', (info: { dtmf?: { digit: string; durationMs: number } }) => {
      if (info.dtmf)
        this.hooks.digit({ source: 'info', digit: info.dtmf.digit, durationMs: info.dtmf.durationMs });
    });
    session.on('terminated', ({ reason }: { reason: string }) => this.sessionEnded(reason));
    // A caller behind NAT that moved (a phone that changed networks) sends its media from there too.
    session.on('callerMoved', (address: string) => media.setSignallingAddress(unmappedAddress(address)));
  }

  /**
   * A CANCEL (or a transport failure) can end an incoming call while its media is being set up,
   * before anyone listens: its channel, once it holds the call, ends it here.
   */
  endIfSessionOver(): void {
    if (this.session.terminated) this.sessionEnded('cancel');
  }

  private sessionEnded(reason: string): void {
    // An outgoing call that never connected ends through its `established` rejection instead.
    if (this.ended || (this.outgoingInvite && !this.established)) return;
    this.ended = true;
    this.media.close();
    this.hooks.remoteEnded(
      reason === 'timeout' || reason === 'expired'
        ? Cause.TIMEOUT
        : reason === 'error'
          ? Cause.ERROR
          : Cause.NORMAL
    );
  }

  static async incoming(ctx: ChannelContext, invite: IncomingInvite, hooks: SipCallHooks): Promise<SipCall> {
    // The media leg exists before its call: it reports silence through this.
    const owner: { call?: SipCall } = {};
    const signallingAddress = signallingAddressOf(invite);
    const offer = invite.remoteSdp;
    const media = await SipCall.createMedia(ctx, hooks, (silentMs) => owner.call?.peerSilent(silentMs), {
      signallingAddress,
      sipPeer: signallingAddress,
      mediaPeer: offer === undefined ? undefined : offeredAudioAddress(offer),
      behindNat: invite.callerBehindNat
    });
    owner.call = new SipCall(invite, media, hooks, invite, undefined);
    return owner.call;
  }

  /** Places the call; resolves once it is answered, rejects with the SIP failure otherwise. */
  static async outgoing(
    ctx: ChannelContext,
    target: string,
    options: OutgoingCallOptions,
    hooks: SipCallHooks,
    onProgress: (status: number) => void
  ): Promise<SipCall> {
    const owner: { call?: SipCall } = {};
    const media = await SipCall.createMedia(ctx, hooks, (silentMs) => owner.call?.peerSilent(silentMs), {
      sipPeer: targetAddress(target),
      behindNat: false
    });
    let outgoing: OutgoingInvite;
    try {
      // RFC 3263 §4.1: a name's NAPTR (or SRV) records say which transport reaches it.
      const transport =
        options.transport ?? (await ctx.userAgent.transportFor(target).catch(() => undefined));
      outgoing = ctx.userAgent.invite(target, { ...options, transport, body: media.offer() });
    } catch (error) {
      media.close();
      throw error;
    }
    const call = new SipCall(outgoing, media, hooks, undefined, outgoing);
    owner.call = call;
    // Given up (timeout, the caller's signal, a hang-up): the offer's ports go back at once, while
    // the INVITE ends by itself (§9.1: CANCEL once a provisional response comes; a 2xx that
    // crosses it is ACKed and ended with BYE; else Timer B).
    const releaseMedia = (): void => media.close();
    options.signal?.addEventListener('abort', releaseMedia, { once: true });
    // The last early-media answer we could use: the call's answer if the 2xx brings none.
    let earlyAnswer: string | undefined;
    outgoing.on('progress', ({ status, body }: { status: number; body?: string }) => {
      // RFC 3960 §3: a 180 with SDP carries early media as a 183 does (a gateway's in-band ringback).
      if (status > 100 && body) {
        try {
          call.media.previewAnswer(body);
          earlyAnswer = body;
        } catch {
          /* early media we cannot use: wait for the final answer */
        }
      }
      onProgress(status);
    });
    let answerSdp: string;
    try {
      ({ answerSdp } = await outgoing.established);
    } catch (error) {
      call.ended = true;
      media.close();
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', releaseMedia);
    }
    // Its media may come from where its 2xx did, when its SDP names another of its interfaces (a
    // multi-homed host), as an incoming call's may come from where its INVITE did.
    if (outgoing.answeredFrom !== undefined)
      media.setSignallingAddress(unmappedAddress(outgoing.answeredFrom));
    try {
      // §13.2.1 has the answer in the 2xx; one that leaves it out after a 183 with SDP (seen from
      // gateways) has given it already.
      media.acceptAnswer(answerSdp.length === 0 && earlyAnswer !== undefined ? earlyAnswer : answerSdp);
    } catch (error) {
      // An answer we cannot use (no common codec, plain RTP while SRTP is required): the dialog
      // exists, so end it with BYE rather than leave the callee connected to silence.
      call.ended = true;
      media.close();
      void outgoing.bye().catch(() => undefined);
      throw error;
    }
    // Ended between its 2xx and here: no call to connect. Over TCP a callee's BYE can come in the
    // 2xx's segment, and is handled before this runs; otherwise its ACK could not be sent (§13.2.2.4).
    if (outgoing.terminated) {
      call.ended = true;
      media.close();
      if (outgoing.terminationReason === 'bye') throw new HangupError('the callee hung up as it answered');
      throw new SipError('ERR_SIP_TRANSPORT', 'the call ended as it was answered: its ACK could not be sent');
    }
    call.established = true;
    return call;
  }

  private static async createMedia(
    ctx: ChannelContext,
    hooks: SipCallHooks,
    onMediaTimeout: (silentMs: number) => void,
    peer: { signallingAddress?: string; sipPeer: string | undefined; mediaPeer?: string; behindNat: boolean }
  ): Promise<MediaLeg> {
    const address = await ctx.rtpAddress.toward(peer.sipPeer, peer.mediaPeer);
    const ports = await ctx.ports.allocate();
    return new MediaLeg(
      {
        kernels: ctx.kernels,
        loop: ctx.loop,
        ports,
        address,
        roomSampleRateHz: ctx.roomSampleRateHz,
        codecs: ctx.codecs,
        jitter: ctx.jitter,
        metrics: ctx.metrics,
        webrtc: ctx.webrtc,
        inactivityTimeoutMs: ctx.rtpInactivityTimeoutMs,
        srtp: ctx.srtp,
        latching: ctx.latching,
        inbandDtmf: ctx.inbandDtmf,
        signallingAddress: peer.signallingAddress,
        peerBehindNat: peer.behindNat
      },
      {
        onDigit: (observation) => hooks.digit(observation),
        onTalking: (talking, level) => hooks.talking(talking, level),
        onRecordingFull: () => hooks.recordingFull(),
        onStrangerMedia: (dropped) => hooks.strangerMedia(dropped),
        onMediaTimeout
      }
    );
  }

  /** No RTP or RTCP for too long: the peer is gone. BYE (it may still hear it), then the call ends with TIMEOUT. */
  peerSilent(silentMs: number): void {
    if (this.ended) return;
    this.ended = true;
    this.media.close();
    void this.session.bye().catch(() => undefined);
    this.hooks.remoteEnded(
      Cause.TIMEOUT,
      `no RTP or RTCP from the peer for ${Math.round(silentMs / 1000)} s`
    );
  }

  ring(): void {
    this.incomingInvite?.progress(180);
  }

  /** Answers the incoming INVITE: negotiates media, sends 200 OK and waits for the ACK. */
  async answer(): Promise<void> {
    const invite = this.incomingInvite;
    if (!invite)
      throw new InvalidStateError('only an incoming call can be answered', { expected: ['CALL_INCOMING'] });
    const offer = invite.remoteSdp;
    // Nothing is sent to the address the INVITE named until its ACK shows the caller is there.
    this.media.holdSending(true);
    let answer: string;
    try {
      // No offer (delayed offer, RFC 3261 §13.2.1): ours goes in the 200 and the ACK answers it.
      answer =
        offer === undefined ? this.media.offer() : await this.media.answerOffer(offer, invite.protocol);
    } catch (error) {
      if (error instanceof WebRtcBusyError && error.scope === 'source') invite.reject(486, 'Busy Here');
      else if (error instanceof WebRtcBusyError)
        invite.reject(503, 'Service Unavailable', { 'Retry-After': String(error.retryAfterSeconds) });
      else invite.reject(488, 'Not Acceptable Here', warningHeaders(error));
      this.finish();
      throw asOfferRejection(error);
    }
    try {
      await invite.accept(answer, this.rosterToken ? { [ROSTER_TOKEN_HEADER]: this.rosterToken } : {});
    } catch (error) {
      this.finish(); // cancelled or ended meanwhile: its media goes with it
      throw error;
    }
    this.media.holdSending(false);
    this.established = true;
  }

  /**
   * The answer an ACK carried to the offer in our 200: the call's first agreement (a delayed-offer
   * INVITE), or a new one (a re-INVITE without an offer, such as a session refresh). A call that
   * has none yet ends without one; an established call keeps the agreement it had.
   */
  private takeAnswer(answer: string | undefined): void {
    if (!this.established) {
      if (answer === undefined) throw new SdpNegotiationError('the ACK carried no answer to our offer');
      this.media.acceptAnswer(answer);
      return;
    }
    if (answer === undefined) {
      this.media.cancelOffer();
      return;
    }
    try {
      this.media.acceptAnswer(answer);
    } catch (error) {
      if (!(error instanceof SdpNegotiationError || error instanceof SdpParseError)) throw error;
    }
  }

  /** A browser's peer connection failed (ICE, DTLS) or closed: the call ends, BYE if it was established. */
  private mediaFailed(): void {
    if (this.ended) return;
    this.hooks.remoteEnded(Cause.ERROR);
    void this.hangUp();
  }

  /** Refuses an incoming call that was not answered. */
  reject(status: number, reason?: string): void {
    if (this.ended) return;
    this.incomingInvite?.reject(status, reason);
    this.finish();
  }

  /** Ends the call from our side: BYE once established, otherwise reject or CANCEL. */
  async hangUp(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.media.close();
    try {
      if (this.established) await this.session.bye();
      else if (this.incomingInvite?.answered) {
        // Our 200 is out, its ACK not in: §15 has the BYE wait for it (or for the 2xx to give up).
        if (await this.incomingInvite.whenAcked()) await this.session.bye();
      } else if (this.incomingInvite) this.incomingInvite.reject(480, 'Temporarily Unavailable');
      else this.outgoingInvite?.cancel();
    } catch {
      /* the dialog is gone already: nothing more to tell the far end */
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.media.close();
  }
}
