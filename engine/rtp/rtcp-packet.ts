/**
 * RTCP packets (RFC 3550 §6.4 SR/RR, §6.5 SDES CNAME, §6.6 BYE) as plain typed objects, with a
 * compound-packet parser that never throws: a truncated or garbage packet ends the parse and is
 * reported in `errors`, the packets before it are kept. RTCP runs every few seconds, so this
 * path may allocate.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

/** One reception report block (§6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, as the 8-bit fixed-point value /256. */
  fractionLost: number;
  /** Cumulative packets lost (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source, or 0. */
  lastSenderReport: number;
  /** Delay since that SR, in units of 1/65536 s, or 0. */
  delaySinceLastSenderReport: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export interface SourceDescription {
  type: 'sdes';
  /** CNAME per SSRC (other SDES items are skipped). */
  chunks: { ssrc: number; cname?: string }[];
}

export interface Goodbye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** A packet type this parser does not decode (APP, feedback, XR ...): kept by type only. */
export interface OtherRtcp {
  type: 'other';
  packetType: number;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcp;

export interface RtcpParseResult {
  packets: RtcpPacket[];
  /** What was wrong, if anything; parsing stops at the first malformed packet. */
  errors: string[];
}

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

function putU32(b: Uint8Array, o: number, v: number): void {
  v >>>= 0;
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function parseBlocks(b: Uint8Array, offset: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++, offset += 24) {
    const lost24 = (b[offset + 5] << 16) | (b[offset + 6] << 8) | b[offset + 7];
    blocks.push({
      ssrc: u32(b, offset),
      fractionLost: b[offset + 4],
      cumulativeLost: lost24 & 0x800000 ? lost24 - 0x1000000 : lost24,
      highestSequence: u32(b, offset + 8),
      jitter: u32(b, offset + 12),
      lastSenderReport: u32(b, offset + 16),
      delaySinceLastSenderReport: u32(b, offset + 20)
    });
  }
  return blocks;
}

/**
 * Most packets read from one compound datagram. A real one holds a few (§6.1: SR or RR, SDES,
 * maybe BYE or APP); a 64 kB datagram of empty 4-byte headers would otherwise cost 16 384
 * objects.
 */
export const MAX_RTCP_PACKETS_PER_COMPOUND = 256;

/** Parses a compound RTCP datagram (§6.1). Never throws. */
export function parseRtcpCompound(buf: Uint8Array, length: number = buf.length): RtcpParseResult {
  const packets: RtcpPacket[] = [];
  const errors: string[] = [];
  let offset = 0;
  while (offset < length) {
    if (packets.length === MAX_RTCP_PACKETS_PER_COMPOUND) {
      errors.push(`more than ${MAX_RTCP_PACKETS_PER_COMPOUND} packets in one compound datagram`);
      break;
    }
    if (length - offset < 4) {
      errors.push(`trailing ${length - offset} bytes`);
      break;
    }
    const b0 = buf[offset];
    if (b0 >>> 6 !== 2) {
      errors.push(`version ${b0 >>> 6} at offset ${offset}`);
      break;
    }
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1];
    const bytes = 4 * (((buf[offset + 2] << 8) | buf[offset + 3]) + 1);
    if (offset + bytes > length) {
      errors.push(`packet type ${packetType} length ${bytes} runs past the datagram`);
      break;
    }
    let body = bytes;
    if (b0 & 0x20) {
      // Padding (§6.4.1): only meaningful on the last packet; the last octet counts it.
      const pad = buf[offset + bytes - 1];
      if (pad === 0 || pad > bytes - 4) {
        errors.push(`bad padding ${pad}`);
        break;
      }
      body = bytes - pad;
    }
    const end = offset + body;
    const packet = parseOne(buf, offset, end, packetType, count);
    if (typeof packet === 'string') {
      errors.push(packet);
      break;
    }
    packets.push(packet);
    offset += bytes;
  }
  return { packets, errors };
}

function parseOne(
  b: Uint8Array,
  start: number,
  end: number,
  packetType: number,
  count: number
): RtcpPacket | string {
  switch (packetType) {
    case RTCP_SR: {
      if (end - start < 28 + 24 * count) return `SR too short for ${count} report blocks`;
      return {
        type: 'sr',
        ssrc: u32(b, start + 4),
        ntpSeconds: u32(b, start + 8),
        ntpFraction: u32(b, start + 12),
        rtpTimestamp: u32(b, start + 16),
        packetCount: u32(b, start + 20),
        octetCount: u32(b, start + 24),
        reports: parseBlocks(b, start + 28, count)
      };
    }
    case RTCP_RR: {
      if (end - start < 8 + 24 * count) return `RR too short for ${count} report blocks`;
      return { type: 'rr', ssrc: u32(b, start + 4), reports: parseBlocks(b, start + 8, count) };
    }
    case RTCP_SDES: {
      const chunks: { ssrc: number; cname?: string }[] = [];
      let o = start + 4;
      for (let i = 0; i < count; i++) {
        if (o + 4 > end) return 'SDES chunk runs past the packet';
        const chunk: { ssrc: number; cname?: string } = { ssrc: u32(b, o) };
        o += 4;
        // §6.5: items (type, length, text) until a zero type, then pad to a 32-bit boundary.
        for (;;) {
          if (o >= end) return 'SDES items run past the packet';
          const itemType = b[o];
          if (itemType === 0) break;
          if (o + 2 > end || o + 2 + b[o + 1] > end) return 'SDES item runs past the packet';
          const len = b[o + 1];
          if (itemType === 1) chunk.cname = Buffer.from(b.buffer, b.byteOffset + o + 2, len).toString('utf8');
          o += 2 + len;
        }
        o = (o + 4) & ~3;
        chunks.push(chunk);
      }
      return { type: 'sdes', chunks };
    }
    case RTCP_BYE: {
      if (end - start < 4 + 4 * count) return 'BYE too short';
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(u32(b, start + 4 + 4 * i));
      const bye: Goodbye = { type: 'bye', ssrcs };
      const r = start + 4 + 4 * count;
      if (r < end && r + 1 + b[r] <= end)
        bye.reason = Buffer.from(b.buffer, b.byteOffset + r + 1, b[r]).toString('utf8');
      return bye;
    }
    default:
      return { type: 'other', packetType };
  }
}

function writeBlocks(out: Uint8Array, offset: number, blocks: readonly ReportBlock[]): void {
  for (const block of blocks) {
    putU32(out, offset, block.ssrc);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, block.cumulativeLost)) & 0xffffff;
    putU32(out, offset + 4, ((block.fractionLost & 0xff) << 24) | lost);
    putU32(out, offset + 8, block.highestSequence);
    putU32(out, offset + 12, block.jitter);
    putU32(out, offset + 16, block.lastSenderReport);
    putU32(out, offset + 20, block.delaySinceLastSenderReport);
    offset += 24;
  }
}

function header(out: Uint8Array, offset: number, count: number, packetType: number, bytes: number): void {
  out[offset] = 0x80 | (count & 0x1f);
  out[offset + 1] = packetType;
  const words = bytes / 4 - 1;
  out[offset + 2] = words >>> 8;
  out[offset + 3] = words & 0xff;
}

function sizeOf(packet: RtcpPacket): number {
  switch (packet.type) {
    case 'sr':
      return 28 + 24 * packet.reports.length;
    case 'rr':
      return 8 + 24 * packet.reports.length;
    case 'sdes': {
      let n = 4;
      for (const c of packet.chunks) {
        const len = c.cname === undefined ? 0 : 2 + Buffer.byteLength(c.cname);
        n += (4 + len + 1 + 3) & ~3;
      }
      return n;
    }
    case 'bye': {
      const r = packet.reason === undefined ? 0 : (1 + Buffer.byteLength(packet.reason) + 3) & ~3;
      return 4 + 4 * packet.ssrcs.length + r;
    }
    case 'other':
      throw new RangeError(`cannot serialize RTCP packet type ${packet.packetType}`);
  }
}

/** Serializes packets back to back as one compound datagram (§6.1: start with SR or RR). */
export function serializeRtcpCompound(packets: readonly RtcpPacket[]): Buffer {
  const total = packets.reduce((n, p) => n + sizeOf(p), 0);
  const out = Buffer.alloc(total);
  let o = 0;
  for (const p of packets) {
    const bytes = sizeOf(p);
    switch (p.type) {
      case 'sr':
        if (p.reports.length > 31) throw new RangeError('at most 31 report blocks per SR');
        header(out, o, p.reports.length, RTCP_SR, bytes);
        putU32(out, o + 4, p.ssrc);
        putU32(out, o + 8, p.ntpSeconds);
        putU32(out, o + 12, p.ntpFraction);
        putU32(out, o + 16, p.rtpTimestamp);
        putU32(out, o + 20, p.packetCount);
        putU32(out, o + 24, p.octetCount);
        writeBlocks(out, o + 28, p.reports);
        break;
      case 'rr':
        if (p.reports.length > 31) throw new RangeError('at most 31 report blocks per RR');
        header(out, o, p.reports.length, RTCP_RR, bytes);
        putU32(out, o + 4, p.ssrc);
        writeBlocks(out, o + 8, p.reports);
        break;
      case 'sdes': {
        header(out, o, p.chunks.length, RTCP_SDES, bytes);
        let c = o + 4;
        for (const chunk of p.chunks) {
          const start = c;
          putU32(out, c, chunk.ssrc);
          c += 4;
          if (chunk.cname !== undefined) {
            const text = Buffer.from(chunk.cname, 'utf8').subarray(0, 255);
            out[c] = 1;
            out[c + 1] = text.length;
            out.set(text, c + 2);
            c += 2 + text.length;
          }
          // zero item type ends the list; Buffer.alloc already zeroed the padding
          c = start + ((c - start + 1 + 3) & ~3);
        }
        break;
      }
      case 'bye': {
        header(out, o, p.ssrcs.length, RTCP_BYE, bytes);
        p.ssrcs.forEach((s, i) => putU32(out, o + 4 + 4 * i, s));
        if (p.reason !== undefined) {
          const r = o + 4 + 4 * p.ssrcs.length;
          const text = Buffer.from(p.reason, 'utf8').subarray(0, 255);
          out[r] = text.length;
          out.set(text, r + 1);
        }
        break;
      }
      case 'other':
        break;
    }
    o += bytes;
  }
  return out;
}

/** NTP timestamp (seconds since 1900, 32.32 fixed point) of a Unix time in ms (§4). */
export function ntpFromUnixMs(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000) + 2_208_988_800;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 0x100000000);
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

/** Middle 32 bits of an NTP timestamp, as carried in LSR (§6.4.1). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}
