/**
 * RTP fixed header (RFC 3550 §5.1): parse into a reusable view without allocating, and write
 * a header into a caller's buffer. Odd packets (short, wrong version, CSRC count beyond the
 * packet, a header extension running past the end, bad padding) are reported as a reason code,
 * never thrown, so the socket handler can count and drop them.
 *
 *    0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers  (CC × 32)  |
 *   | [extension: profile(16) length(16) in 32-bit words, data]     |
 *   | payload ...                           | [padding ... | count] |
 */

export const RTP_HEADER_BYTES = 12;

/** Why a datagram is not a usable RTP packet. */
export type RtpParseError = 'short' | 'version' | 'csrc' | 'extension' | 'padding';

/**
 * A received packet as the receive path hands it on (jitter buffer, reception statistics): one
 * object rather than its numbers, because V8 boxes a double (a timestamp or SSRC above 2^31, an
 * arrival time) passed to a call it does not inline, which would allocate on every packet.
 */
export interface ReceivedRtp {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  /** Where the payload starts in the packet's bytes. */
  readonly payloadOffset: number;
  readonly payloadLength: number;
  /** When it arrived, on the receiver's monotonic ms clock. */
  readonly arrivalMs: number;
}

/** One parsed packet; `parse` overwrites the same object so the receive path allocates nothing. */
export class RtpHeaderView implements ReceivedRtp {
  version = 0;
  padding = false;
  extension = false;
  csrcCount = 0;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  /** Where the payload starts in the parsed buffer (after CSRCs and extension). */
  payloadOffset = 0;
  /** Payload bytes, without padding. */
  payloadLength = 0;
  /** Header-extension profile (RFC 3550 §5.3.1) when `extension`, else 0. */
  extensionProfile = 0;
  /** Set by the receiver after `parse`, which leaves it alone. */
  arrivalMs = 0;

  /**
   * Parses `length` bytes of `buf`. Returns null on success (the fields are set), or the reason
   * the packet must be dropped.
   */
  parse(buf: Uint8Array, length: number = buf.length): RtpParseError | null {
    if (length < RTP_HEADER_BYTES) return 'short';
    const b0 = buf[0];
    const b1 = buf[1];
    this.version = b0 >>> 6;
    if (this.version !== 2) return 'version';
    this.padding = (b0 & 0x20) !== 0;
    this.extension = (b0 & 0x10) !== 0;
    this.csrcCount = b0 & 0x0f;
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    this.sequenceNumber = (buf[2] << 8) | buf[3];
    this.timestamp = ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
    this.ssrc = ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0;
    let offset = RTP_HEADER_BYTES + 4 * this.csrcCount;
    if (offset > length) return 'csrc';
    this.extensionProfile = 0;
    if (this.extension) {
      // §5.3.1: 16-bit profile, 16-bit length counting 32-bit words after this 4-byte header.
      if (offset + 4 > length) return 'extension';
      this.extensionProfile = (buf[offset] << 8) | buf[offset + 1];
      const words = (buf[offset + 2] << 8) | buf[offset + 3];
      offset += 4 + 4 * words;
      if (offset > length) return 'extension';
    }
    let end = length;
    if (this.padding) {
      // §5.1: the last octet counts the padding octets, itself included, so it is at least 1.
      const count = buf[length - 1];
      if (count === 0 || count > length - offset) return 'padding';
      end = length - count;
    }
    this.payloadOffset = offset;
    this.payloadLength = end - offset;
    return null;
  }
}

/** Fields written by `writeRtpHeader`. */
export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/** Writes a 12-byte header (V=2, no padding, extension or CSRC) at `buf[0..12)`; returns 12. */
export function writeRtpHeader(buf: Uint8Array, fields: RtpHeaderFields): number {
  return writeRtpHeaderOf(
    buf,
    fields.marker,
    fields.payloadType,
    fields.sequenceNumber,
    fields.timestamp,
    fields.ssrc
  );
}

/** `writeRtpHeader` from scalars, for the per-packet path (no fields object). */
export function writeRtpHeaderOf(
  buf: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number
): number {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (sequenceNumber >>> 8) & 0xff;
  buf[3] = sequenceNumber & 0xff;
  const ts = timestamp >>> 0;
  buf[4] = ts >>> 24;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
  const s = ssrc >>> 0;
  buf[8] = s >>> 24;
  buf[9] = (s >>> 16) & 0xff;
  buf[10] = (s >>> 8) & 0xff;
  buf[11] = s & 0xff;
  return RTP_HEADER_BYTES;
}

/** Whether the second byte marks an RTCP packet (PT 200-204 with the marker bit folded in; RFC 5761 §4). */
export function looksLikeRtcp(buf: Uint8Array, length: number): boolean {
  return length >= 2 && buf[1] >= 192 && buf[1] <= 223;
}
