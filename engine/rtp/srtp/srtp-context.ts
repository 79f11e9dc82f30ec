/**
 * One SRTP/SRTCP crypto context (RFC 3711 §3.2): the session keys of one master key and, per
 * direction of use, the packet index state. SDES gives each side its own master key, so a call
 * holds two contexts: ours protects what we send, the peer's unprotects what we receive.
 *
 * SRTP (§3.1): the payload is encrypted with AES-CM and header plus payload are authenticated
 * with the ROC appended; the receiver guesses the ROC from the sequence number (§3.3.1,
 * Appendix A) and checks the replay window before spending an HMAC. SRTCP (§3.4): everything
 * after the first 8 bytes is encrypted, then E||index and the tag are appended.
 *
 * Unprotect works in place on the received buffer and returns the plain length, or one of the
 * negative SRTP_* codes; nothing is thrown for a stranger's bytes.
 */
import { AesCounterMode } from './aes-counter-mode.js';
import { HmacSha1 } from './hmac-sha1.js';
import { deriveRtcpKeys, deriveRtpKeys } from './key-derivation.js';
import { ReplayWindow } from './replay-window.js';
import { MASTER_KEY_SALT_BYTES, type SrtpSuite } from './srtp-suite.js';

/** The packet failed authentication (wrong key, tampered, or not SRTP at all). */
export const SRTP_AUTH_FAILED = -1;
/** The packet's index was already received or is older than the replay window. */
export const SRTP_REPLAYED = -2;
/** Too short, or a header that does not fit. */
export const SRTP_MALFORMED = -3;

export type SrtpFailure = typeof SRTP_AUTH_FAILED | typeof SRTP_REPLAYED | typeof SRTP_MALFORMED;

/**
 * Remote streams (SSRCs) whose ROC and replay state are kept: RFC 3711 §3.2.3 keeps them per
 * SSRC. One stream's state wiped when another appeared: a peer's RFC 4733 events on an SSRC
 * of their own reset the audio's ROC to 0 (after its first sequence wrap every audio packet then
 * failed), and two recorded packets of two SSRCs, replayed in turn, were each taken again.
 */
const MAX_RECEIVE_STREAMS = 16;

/** The replay window of `ssrc` in `streams` (made, and the least recently used dropped, as needed), most recently used last. */
function streamWindow(streams: Map<number, ReplayWindow>, ssrc: number): ReplayWindow {
  let window = streams.get(ssrc);
  if (window !== undefined) {
    if (streams.size > 1) {
      streams.delete(ssrc);
      streams.set(ssrc, window);
    }
    return window;
  }
  if (streams.size >= MAX_RECEIVE_STREAMS) streams.delete(streams.keys().next().value as number);
  window = new ReplayWindow();
  streams.set(ssrc, window);
  return window;
}

/**
 * Largest RTP or RTCP packet, before protection, that we protect or take: a 1500-byte MTU's worth
 * and more, and more than the jitter buffer keeps (1280 bytes of payload). A longer datagram is
 * refused before its HMAC: the tag covers every byte, and a stranger's 64 kB datagrams, which an
 * SRTP session checks from anyone until its peer has latched, cost 370 µs each (2 µs for a call's
 * 172 bytes), where a plain RTP session drops them unread; and a peer's authentic one left its
 * cipher a 64 kB counter buffer for the rest of the call.
 */
export const MAX_PLAIN_BYTES = 2048;

const SRTCP_E_BIT = 0x80000000;
const SRTCP_INDEX_MASK = 0x7fffffff;
const SRTCP_TRAILER_BYTES = 4;

/** Length of the RTP header (fixed part, CSRCs, extension) or -1 if it does not fit (RFC 3550 §5.1). */
function rtpHeaderBytes(packet: Uint8Array, length: number): number {
  if (length < 12 || packet[0] >> 6 !== 2) return -1;
  let bytes = 12 + (packet[0] & 0x0f) * 4;
  if (packet[0] & 0x10) {
    if (bytes + 4 > length) return -1;
    bytes += 4 + ((packet[bytes + 2] << 8) | packet[bytes + 3]) * 4;
  }
  return bytes <= length ? bytes : -1;
}

function readUint32(packet: Uint8Array, at: number): number {
  return ((packet[at] << 24) | (packet[at + 1] << 16) | (packet[at + 2] << 8) | packet[at + 3]) >>> 0;
}

export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly #rtpCipher: AesCounterMode;
  readonly #rtpAuth: HmacSha1;
  readonly #rtcpCipher: AesCounterMode;
  readonly #rtcpAuth: HmacSha1;
  // Sending: the ROC and last sequence number of our one stream.
  #sendSsrc: number | undefined;
  #sendRoc = 0;
  #lastSentSeq = -1;
  #srtcpSendIndex = 0;
  // Receiving: the replay window (whose highest index carries the ROC) of each remote stream.
  readonly #rtpStreams = new Map<number, ReplayWindow>();
  readonly #rtcpStreams = new Map<number, ReplayWindow>();

  constructor(suite: SrtpSuite, masterKeySalt: Uint8Array) {
    if (masterKeySalt.length !== MASTER_KEY_SALT_BYTES) {
      throw new RangeError(
        `${suite.name} needs ${MASTER_KEY_SALT_BYTES} bytes of master key and salt, got ${masterKeySalt.length}`
      );
    }
    this.suite = suite;
    const key = Buffer.from(masterKeySalt.subarray(0, suite.masterKeyBytes));
    const salt = Buffer.from(masterKeySalt.subarray(suite.masterKeyBytes));
    const rtp = deriveRtpKeys(key, salt);
    const rtcp = deriveRtcpKeys(key, salt);
    this.#rtpCipher = new AesCounterMode(rtp.encryptionKey, rtp.salt);
    this.#rtpAuth = new HmacSha1(rtp.authenticationKey);
    this.#rtcpCipher = new AesCounterMode(rtcp.encryptionKey, rtcp.salt);
    this.#rtcpAuth = new HmacSha1(rtcp.authenticationKey);
  }

  /** Bytes SRTP adds to an RTP packet. */
  get rtpOverheadBytes(): number {
    return this.suite.rtpTagBytes;
  }

  /**
   * Carries on where `earlier` (a context of the same master key, perhaps of another suite)
   * stopped sending: its SSRC, ROC, last sequence number and SRTCP index. The keystream depends
   * on the master key alone, so a fresh context for a key already used would encrypt with the
   * same key and counter again (SRTP turned off and on, or the suite changed, in one call).
   */
  continueSending(earlier: SrtpContext): void {
    this.#sendSsrc = earlier.#sendSsrc;
    this.#sendRoc = earlier.#sendRoc;
    this.#lastSentSeq = earlier.#lastSentSeq;
    this.#srtcpSendIndex = earlier.#srtcpSendIndex;
  }

  /**
   * Carries on where `earlier` (a context of the same master key) stopped receiving: the replay
   * window, and with it the ROC, of each remote stream. Without it, a key that came back after a
   * re-INVITE (to another key, or to plain RTP, and back) took its earlier packets again: a replay
   * of recorded audio into the call (RFC 3711 §3.3.2).
   */
  continueReceiving(earlier: SrtpContext): void {
    for (const [ssrc, window] of earlier.#rtpStreams) this.#rtpStreams.set(ssrc, window);
    for (const [ssrc, window] of earlier.#rtcpStreams) this.#rtcpStreams.set(ssrc, window);
  }

  /** The ROC of the stream we send (for tests and diagnostics). */
  get sendRolloverCounter(): number {
    return this.#sendRoc;
  }

  /**
   * Writes the SRTP form of `packet[0, length)` into `out` and returns its length, or
   * SRTP_MALFORMED. `out` needs `length + rtpOverheadBytes` bytes; it may be `packet` itself.
   */
  protectRtp(packet: Uint8Array, length: number, out: Uint8Array): number {
    const header = rtpHeaderBytes(packet, length);
    if (header < 0 || out.length < length + this.suite.rtpTagBytes) return SRTP_MALFORMED;
    if (out !== packet) out.set(packet.subarray(0, length), 0);
    const seq = (packet[2] << 8) | packet[3];
    const ssrc = readUint32(packet, 8);
    if (ssrc !== this.#sendSsrc) {
      this.#sendSsrc = ssrc;
      this.#sendRoc = 0;
    } else if (seq < this.#lastSentSeq && this.#lastSentSeq - seq > 0x8000) {
      // §3.3.1: the sender increments the ROC each time SEQ wraps to 0.
      this.#sendRoc = (this.#sendRoc + 1) >>> 0;
    }
    this.#lastSentSeq = seq;
    this.#rtpCipher.apply(out, header, length - header, ssrc, this.#sendRoc, seq);
    const tag = this.#rtpAuth.mac(out, length, this.#sendRoc);
    for (let i = 0; i < this.suite.rtpTagBytes; i++) out[length + i] = tag[i];
    return length + this.suite.rtpTagBytes;
  }

  /** Authenticates and decrypts `packet[0, length)` in place: the RTP length, or a negative SRTP_* code. */
  unprotectRtp(packet: Uint8Array, length: number): number {
    const tagBytes = this.suite.rtpTagBytes;
    const plainLength = length - tagBytes;
    if (plainLength > MAX_PLAIN_BYTES) return SRTP_MALFORMED;
    const header = rtpHeaderBytes(packet, plainLength);
    if (header < 0) return SRTP_MALFORMED;
    const seq = (packet[2] << 8) | packet[3];
    const ssrc = readUint32(packet, 8);
    const known = this.#rtpStreams.get(ssrc);
    const highest = known === undefined ? -1 : known.highest;
    const index = highest < 0 ? seq : estimateIndex(highest, seq);
    if (index < 0) return SRTP_REPLAYED;
    if (known !== undefined && !known.isFresh(index)) return SRTP_REPLAYED;
    const roc = Math.floor(index / 0x10000);
    if (!this.#rtpAuth.verify(packet, plainLength, tagBytes, roc)) return SRTP_AUTH_FAILED;
    this.#rtpCipher.apply(packet, header, plainLength - header, ssrc, roc, seq);
    // Only an authenticated packet makes a stream known, or moves its state.
    streamWindow(this.#rtpStreams, ssrc).accept(index);
    return plainLength;
  }

  /** Writes the SRTCP form of the compound `packet[0, length)` into `out`; returns its length or SRTP_MALFORMED. */
  protectRtcp(packet: Uint8Array, length: number, out: Uint8Array): number {
    const tagBytes = this.suite.rtcpTagBytes;
    if (length < 8 || out.length < length + SRTCP_TRAILER_BYTES + tagBytes) return SRTP_MALFORMED;
    if (out !== packet) out.set(packet.subarray(0, length), 0);
    const index = this.#srtcpSendIndex;
    this.#srtcpSendIndex = (index + 1) & SRTCP_INDEX_MASK;
    this.#rtcpCipher.apply(out, 8, length - 8, readUint32(packet, 4), index >>> 16, index & 0xffff);
    const word = (SRTCP_E_BIT | index) >>> 0;
    out[length] = word >>> 24;
    out[length + 1] = (word >>> 16) & 0xff;
    out[length + 2] = (word >>> 8) & 0xff;
    out[length + 3] = word & 0xff;
    const tag = this.#rtcpAuth.mac(out, length + SRTCP_TRAILER_BYTES);
    for (let i = 0; i < tagBytes; i++) out[length + SRTCP_TRAILER_BYTES + i] = tag[i];
    return length + SRTCP_TRAILER_BYTES + tagBytes;
  }

  /** Authenticates and (if its E bit says so) decrypts an SRTCP packet in place: the RTCP length, or a negative code. */
  unprotectRtcp(packet: Uint8Array, length: number): number {
    const tagBytes = this.suite.rtcpTagBytes;
    const authenticated = length - tagBytes;
    const plainLength = authenticated - SRTCP_TRAILER_BYTES;
    if (plainLength < 8 || plainLength > MAX_PLAIN_BYTES || packet[0] >> 6 !== 2) return SRTP_MALFORMED;
    const word = readUint32(packet, plainLength);
    const index = word & SRTCP_INDEX_MASK;
    const ssrc = readUint32(packet, 4);
    const known = this.#rtcpStreams.get(ssrc);
    if (known !== undefined && !known.isFresh(index)) return SRTP_REPLAYED;
    if (!this.#rtcpAuth.verify(packet, authenticated, tagBytes)) return SRTP_AUTH_FAILED;
    if (word & SRTCP_E_BIT)
      this.#rtcpCipher.apply(packet, 8, plainLength - 8, ssrc, index >>> 16, index & 0xffff);
    streamWindow(this.#rtcpStreams, ssrc).accept(index);
    return plainLength;
  }
}

/**
 * RFC 3711 Appendix A: the index of a packet with sequence number `seq`, given the highest
 * index received so far; the guess v of the ROC is ROC - 1, ROC or ROC + 1. Negative when the
 * packet would belong before the stream began.
 */
export function estimateIndex(highest: number, seq: number): number {
  const roc = Math.floor(highest / 0x10000);
  const highestSeq = highest % 0x10000;
  let v = roc;
  if (highestSeq < 0x8000) {
    if (seq - highestSeq > 0x8000) v = roc - 1;
  } else if (highestSeq - 0x8000 > seq) {
    v = roc + 1;
  }
  return v < 0 ? -1 : v * 0x10000 + seq;
}
