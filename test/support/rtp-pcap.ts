/**
 * Minimal pcap reader and writer for tests: the classic libpcap global header and records (either
 * byte order, micro- or nanosecond timestamps), Ethernet II (optionally one 802.1Q tag) or Linux
 * cooked (SLL) link layers, IPv4 and UDP. The reader returns the UDP payloads with their
 * addresses; other frames are skipped. Enough to replay captured RTP such as SIPp's
 * dtmf_2833_*.pcap, and to write RTP for SIPp's play_pcap_audio to send.
 */
import { readFileSync, writeFileSync } from 'node:fs';

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

/** Writes `records` as a little-endian, microsecond pcap of Ethernet II / IPv4 / UDP frames. */
export function writePcapUdp(path: string, records: UdpRecord[]): void {
  const chunks: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20);
  chunks.push(global);
  for (const r of records) {
    const frame = Buffer.alloc(14 + 20 + 8 + r.payload.length);
    frame.writeUInt16BE(0x0800, 12);
    const ip = frame.subarray(14, 34);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + r.payload.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    r.srcAddress.split('.').forEach((b, i) => (ip[12 + i] = Number(b)));
    r.dstAddress.split('.').forEach((b, i) => (ip[16 + i] = Number(b)));
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    frame.writeUInt16BE(r.srcPort, 34);
    frame.writeUInt16BE(r.dstPort, 36);
    frame.writeUInt16BE(8 + r.payload.length, 38);
    r.payload.copy(frame, 42);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(Math.floor(r.timeMs / 1000), 0);
    header.writeUInt32LE(Math.round((r.timeMs % 1000) * 1000), 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    chunks.push(header, frame);
  }
  writeFileSync(path, Buffer.concat(chunks));
}
