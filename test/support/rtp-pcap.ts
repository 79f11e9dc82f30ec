/**
 * Minimal pcap reader for tests: the classic libpcap global header and records (either byte
 * order, micro- or nanosecond timestamps), Ethernet II (optionally one 802.1Q tag) or Linux
 * cooked (SLL) link layers, IPv4 and UDP. Returns the UDP payloads with their addresses; other
 * frames are skipped. Enough to replay captured RTP such as SIPp's dtmf_2833_*.pcap.
 */
import { readFileSync } from 'node:fs';

export interface UdpRecord {
  timeMs: number;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  payload: Buffer;
}

export function readPcapUdp(path: string): UdpRecord[] {
  const file = readFileSync(path);
  const magic = file.readUInt32LE(0);
  let little: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) little = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) little = false;
  else throw new Error(`${path}: not a pcap file (magic ${magic.toString(16)})`);
  if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) nano = true;
  const u32 = (o: number): number => (little ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);
  const out: UdpRecord[] = [];
  let o = 24;
  while (o + 16 <= file.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const captured = u32(o + 8);
    const frame = file.subarray(o + 16, o + 16 + captured);
    o += 16 + captured;
    let ip: number;
    if (linkType === 1) {
      let etherType = frame.readUInt16BE(12);
      ip = 14;
      if (etherType === 0x8100) {
        etherType = frame.readUInt16BE(16);
        ip = 18;
      }
      if (etherType !== 0x0800) continue;
    } else if (linkType === 113) {
      if (frame.readUInt16BE(14) !== 0x0800) continue;
      ip = 16;
    } else if (linkType === 101) {
      ip = 0;
    } else {
      throw new Error(`${path}: unsupported link type ${linkType}`);
    }
    if (frame[ip] >> 4 !== 4 || frame[ip + 9] !== 17) continue;
    const ihl = (frame[ip] & 0x0f) * 4;
    const udp = ip + ihl;
    const udpLength = frame.readUInt16BE(udp + 4);
    out.push({
      timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3),
      srcAddress: [...frame.subarray(ip + 12, ip + 16)].join('.'),
      dstAddress: [...frame.subarray(ip + 16, ip + 20)].join('.'),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, udp + Math.min(udpLength, frame.length - udp)))
    });
  }
  return out;
}
