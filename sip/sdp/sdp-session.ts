/**
 * One call's side of the offer/answer exchange (RFC 3264 §8): keeps our o= line stable across
 * re-offers and answers, bumps its version on each new description, remembers the offer awaiting
 * an answer, and the last agreed audio. Hold and resume are new offers with another direction.
 */

import { SdpStateError } from './errors.js';
import type { LocalMediaCapabilities, NegotiatedAudio } from './media-capabilities.js';
import { validateCapabilities } from './media-capabilities.js';
import { answerOffer, buildOffer, negotiateAnswer, originFor } from './offer-answer.js';
import { parseSdp } from './parse.js';
import { serializeSdp } from './serialize.js';
import { generateSdesKeys } from './sdes.js';
import type { SdpOrigin, SessionDescription } from './session-description.js';

export class SdpSession {
  private localCapabilities: LocalMediaCapabilities;
  /** Our o= line; only its version changes (RFC 3264 §8). */
  private readonly origin: SdpOrigin;
  /** Version of the last description we produced; undefined before the first. */
  private lastVersion: number | undefined;
  private pendingOffer: SessionDescription | undefined;
  private agreed: NegotiatedAudio | undefined;

  constructor(local: LocalMediaCapabilities) {
    validateCapabilities(local);
    this.localCapabilities = { ...local, codecs: [...local.codecs] };
    // One set of keys per call, kept across re-offers so the ROC of our stream carries on.
    if ((local.srtp ?? 'off') !== 'off' && local.sdesKeys === undefined)
      this.localCapabilities.sdesKeys = generateSdesKeys();
    this.origin = originFor(local);
  }

  /** Our capabilities as they stand, with every change applied so far. */
  get local(): Readonly<LocalMediaCapabilities> {
    return this.localCapabilities;
  }

  get sessionId(): string {
    return this.origin.sessionId;
  }

  /** The o= version of the last description we produced (undefined before the first). */
  get sessionVersion(): number | undefined {
    return this.lastVersion;
  }

  /** The audio agreed by the last completed exchange. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.agreed;
  }

  /** True while an offer of ours waits for its answer. */
  get offerPending(): boolean {
    return this.pendingOffer !== undefined;
  }

  /**
   * A new offer (initial or re-INVITE/UPDATE), with `changes` applied to our capabilities from
   * now on. Replaces any offer still pending (e.g. a retry after 491).
   */
  createOffer(changes?: Partial<LocalMediaCapabilities>): string {
    this.apply(changes);
    const offer = buildOffer(this.localCapabilities, this.stamp());
    this.pendingOffer = offer;
    return serializeSdp(offer);
  }

  /** Puts the peer on hold: a sendonly offer (RFC 3264 §8.4), or inactive if we were only receiving. */
  hold(): string {
    const current = this.localCapabilities.direction ?? 'sendrecv';
    return this.createOffer({
      direction: current === 'recvonly' || current === 'inactive' ? 'inactive' : 'sendonly'
    });
  }

  /** Takes the peer off hold: a sendrecv offer. */
  resume(): string {
    return this.createOffer({ direction: 'sendrecv' });
  }

  /** Answers the peer's offer. Throws `SdpStateError` if an offer of ours is pending (glare: 491). */
  createAnswer(
    offerText: string,
    changes?: Partial<LocalMediaCapabilities>
  ): { answer: string; audio: NegotiatedAudio } {
    if (this.pendingOffer !== undefined)
      throw new SdpStateError('cannot answer an offer while our own offer is pending (RFC 3264 §4)');
    const offer = parseSdp(offerText);
    const next = this.merged(changes);
    const { answer, audio } = answerOffer(offer, next, this.peekOrigin());
    // Commit only once the answer succeeded: a 488 leaves the session as it was (RFC 3261 §14.2).
    this.localCapabilities = next;
    this.stamp();
    this.agreed = audio;
    return { answer: serializeSdp(answer), audio };
  }

  /** Reads the answer to our pending offer. On failure the offer is dropped and the previous agreement stands. */
  processAnswer(answerText: string): NegotiatedAudio {
    const offer = this.pendingOffer;
    if (offer === undefined) throw new SdpStateError('no offer of ours is waiting for an answer');
    this.pendingOffer = undefined;
    this.agreed = negotiateAnswer(offer, parseSdp(answerText), this.localCapabilities.mediaFamilies);
    return this.agreed;
  }

  /**
   * Reads an answer to our pending offer that came in an unreliable provisional response (a 183's
   * early media): RFC 3261 §13.2.1 has the answer in the 2xx, and the provisional's only a copy
   * of it ahead of time, so the offer stays pending for the 2xx's answer. Throws as
   * `processAnswer` does, and the agreement stands then too.
   */
  previewAnswer(answerText: string): NegotiatedAudio {
    const offer = this.pendingOffer;
    if (offer === undefined) throw new SdpStateError('no offer of ours is waiting for an answer');
    this.agreed = negotiateAnswer(offer, parseSdp(answerText), this.localCapabilities.mediaFamilies);
    return this.agreed;
  }

  /**
   * Reads the answer to `offerText`, a description of ours sent again unchanged (a session
   * refresh) rather than a new offer. Throws as `processAnswer` does, and the agreement stands then;
   * `SdpStateError` while a new offer of ours waits for its own answer.
   */
  processRepeatAnswer(offerText: string, answerText: string): NegotiatedAudio {
    if (this.pendingOffer !== undefined)
      throw new SdpStateError('an offer of ours is waiting for its own answer');
    this.agreed = negotiateAnswer(
      parseSdp(offerText),
      parseSdp(answerText),
      this.localCapabilities.mediaFamilies
    );
    return this.agreed;
  }

  /** Forgets the pending offer (its transaction failed); the previous agreement stands. */
  cancelOffer(): void {
    this.pendingOffer = undefined;
  }

  private merged(changes: Partial<LocalMediaCapabilities> | undefined): LocalMediaCapabilities {
    if (changes === undefined) return this.localCapabilities;
    const next = { ...this.localCapabilities, ...changes };
    if (changes.codecs !== undefined) next.codecs = [...changes.codecs];
    validateCapabilities(next);
    return next;
  }

  private apply(changes: Partial<LocalMediaCapabilities> | undefined): void {
    this.localCapabilities = this.merged(changes);
  }

  private peekVersion(): number {
    return this.lastVersion === undefined ? Number(this.origin.sessionVersion) : this.lastVersion + 1;
  }

  private peekOrigin(): SdpOrigin {
    return { ...this.origin, sessionVersion: String(this.peekVersion()) };
  }

  /** The o= line for the next description; each one gets the next version (RFC 3264 §8). */
  private stamp(): SdpOrigin {
    const origin = this.peekOrigin();
    this.lastVersion = this.peekVersion();
    return origin;
  }
}
