/**
 * The SRTP of one RTP session (RFC 3711 with SDES keys, RFC 4568): our context protects what we
 * send, the peer's unprotects what we receive, and one output buffer per socket takes the
 * protected packet so the send path allocates nothing of its own. A re-INVITE that keeps a key
 * keeps its context, so the ROC and replay window carry on; a key that comes back later carries
 * on from its last context (SrtpKeyHistory). After the peer's key changes, its previous key is
 * still taken for a moment: the peer sends with it until our answer reaches it.
 */
import { MAX_PLAIN_BYTES, SRTP_AUTH_FAILED, SrtpContext } from './srtp-context.js';
import { SRTP_SUITES, isSrtpSuiteName, type SrtpSuite, type SrtpSuiteName } from './srtp-suite.js';

export interface SrtpKeys {
  suite: SrtpSuiteName | string;
  /** Our master key || salt (what we send with). */
  localKeySalt: Uint8Array;
  /** The peer's master key || salt (what we receive with). */
  remoteKeySalt: Uint8Array;
}

/**
 * The last context of each master key a session used, by key (hex): a key used again carries on
 * its counters when we send with it, and its replay windows when we receive. Every key of ours is
 * kept for the session's life; of the peer's, the last RECEIVED_KEYS_KEPT.
 */
export interface SrtpKeyHistory {
  sent: Map<string, SrtpContext>;
  received: Map<string, SrtpContext>;
}

/**
 * The peer's keys whose receiving contexts a session keeps, most recently used last. A peer may
 * offer a new key in every re-INVITE, hundreds a second, and each context holds about 19 kB
 * (ciphers, counters, windows): 3,000 re-keys held 57 MB until the call ended. A key that comes
 * back after this many others (no endpoint goes back to one that old) starts with a fresh replay
 * window. Our own keys, one per suite, are all kept: a context made anew for one would repeat its
 * keystream.
 */
const RECEIVED_KEYS_KEPT = 16;

/**
 * How long after the peer's key changed its previous key is still taken. With SDES keys (RFC 4568) the
 * offerer of a new key goes on sending with the old one until it has our answer, so what it sent
 * in that round trip arrives under the old key after we switched; refused, each re-key cut a
 * round trip out of the audio. Only a packet the new key refuses is tried with the old one.
 */
const PREVIOUS_KEY_GRACE_MS = 2000;

export class SrtpTransform {
  readonly outbound: SrtpContext;
  readonly inbound: SrtpContext;
  readonly rtpOut = Buffer.alloc(MAX_PLAIN_BYTES + 16);
  readonly rtcpOut = Buffer.alloc(MAX_PLAIN_BYTES + 16);
  readonly #local: Buffer;
  readonly #remote: Buffer;
  readonly #nowMs: () => number;
  /** The peer's previous key's context, taken until #previousUntilMs (PREVIOUS_KEY_GRACE_MS). */
  #previousInbound: SrtpContext | undefined;
  #previousUntilMs = 0;

  private constructor(
    keys: SrtpKeys,
    previous: SrtpTransform | undefined,
    history: SrtpKeyHistory | undefined,
    nowMs: () => number
  ) {
    if (!isSrtpSuiteName(keys.suite)) throw new RangeError(`SRTP suite ${keys.suite} is not supported`);
    const suite = SRTP_SUITES[keys.suite];
    this.#local = Buffer.from(keys.localKeySalt);
    this.#remote = Buffer.from(keys.remoteKeySalt);
    const sameSuite = previous?.outbound.suite === suite;
    this.outbound = keyContext(
      suite,
      this.#local,
      sameSuite && previous.#local.equals(this.#local) ? previous.outbound : undefined,
      history?.sent,
      (context, earlier) => context.continueSending(earlier)
    );
    this.inbound = keyContext(
      suite,
      this.#remote,
      sameSuite && previous.#remote.equals(this.#remote) ? previous.inbound : undefined,
      history?.received,
      (context, earlier) => context.continueReceiving(earlier),
      RECEIVED_KEYS_KEPT
    );
    this.#nowMs = nowMs;
    if (previous !== undefined && previous.inbound !== this.inbound) {
      this.#previousInbound = previous.inbound;
      this.#previousUntilMs = nowMs() + PREVIOUS_KEY_GRACE_MS;
    }
  }

  /** Authenticates and decrypts an SRTP packet in place: its plain length, or an SrtpFailure. */
  unprotectRtp(packet: Uint8Array, length: number): number {
    const result = this.inbound.unprotectRtp(packet, length);
    const previous = result === SRTP_AUTH_FAILED ? this.#previousKey() : undefined;
    return previous === undefined ? result : previous.unprotectRtp(packet, length);
  }

  /** Authenticates and decrypts an SRTCP packet in place: its plain length, or an SrtpFailure. */
  unprotectRtcp(packet: Uint8Array, length: number): number {
    const result = this.inbound.unprotectRtcp(packet, length);
    const previous = result === SRTP_AUTH_FAILED ? this.#previousKey() : undefined;
    return previous === undefined ? result : previous.unprotectRtcp(packet, length);
  }

  #previousKey(): SrtpContext | undefined {
    if (this.#previousInbound !== undefined && this.#nowMs() > this.#previousUntilMs)
      this.#previousInbound = undefined;
    return this.#previousInbound;
  }

  /**
   * A transform for `keys`, reusing the contexts of `previous` whose keys did not change; a key
   * in `history` (the session's) carries on from its last context there. `nowMs` (ms) times the
   * previous remote key's grace.
   */
  static create(
    keys: SrtpKeys,
    previous?: SrtpTransform,
    history?: SrtpKeyHistory,
    nowMs: () => number = () => performance.now()
  ): SrtpTransform {
    return new SrtpTransform(keys, previous, history, nowMs);
  }
}

/**
 * The context of `key`: `kept` (the previous transform's, its key and suite unchanged), or a new
 * one that `carryOn` continues from the key's last context in `history`; recorded there as the
 * key's last, the least recently used forgotten past `limit` keys.
 */
function keyContext(
  suite: SrtpSuite,
  key: Buffer,
  kept: SrtpContext | undefined,
  history: Map<string, SrtpContext> | undefined,
  carryOn: (context: SrtpContext, earlier: SrtpContext) => void,
  limit = Infinity
): SrtpContext {
  const hex = key.toString('hex');
  let context = kept;
  if (context === undefined) {
    context = new SrtpContext(suite, key);
    const earlier = history?.get(hex);
    if (earlier) carryOn(context, earlier);
  }
  if (history === undefined) return context;
  history.delete(hex);
  history.set(hex, context);
  if (history.size > limit) history.delete(history.keys().next().value as string);
  return context;
}
