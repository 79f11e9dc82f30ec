/**
 * SRTP per packet (RFC 3711 with the AES_CM_128 suites), next to what a plain RTP packet costs
 * in the same run: parsing its header, and sending it on a loopback UDP socket (the I/O floor of
 * every packet). Protect and unprotect are measured on 20 ms PCMU packets (12 + 160 bytes) with
 * the engine's context (one ECB cipher per session key, counter blocks in a reused buffer) and
 * with the straightforward node:crypto way (a new AES-CTR cipher and HMAC per packet), plus the
 * bytes each allocates per packet.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { nsPerCall } from '../support/ns-per-call.js';
import type { BenchReport } from '../report.js';
import { bytesPerCall } from '../support/heap-sampling.js';
import { RtpHeaderView, writeRtpHeaderOf } from '../../engine/rtp/rtp-packet.js';
import { SrtpContext } from '../../engine/rtp/srtp/srtp-context.js';
import { deriveRtpKeys } from '../../engine/rtp/srtp/key-derivation.js';
import { SRTP_SUITES, type SrtpSuiteName } from '../../engine/rtp/srtp/srtp-suite.js';

/** benchmark.js sampling for this suite's measurements. */
const SAMPLING = { minSamples: 20 };

const PAYLOAD_BYTES = 160;
const PACKETS = 4096;

/**
 * CPU time per call (user + system, from process.cpuUsage) over `calls` calls: on a shared,
 * overloaded host the wall-clock mean counts the time spent waiting for a core; this does not.
 */
function cpuNsPerCall(fn: () => void, calls = 50_000): number {
  for (let i = 0; i < 2000; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / calls;
}

function plainPacket(seq: number): Buffer {
  const packet = Buffer.alloc(12 + PAYLOAD_BYTES);
  writeRtpHeaderOf(packet, false, 0, seq & 0xffff, seq * 160, 0x1234abcd);
  for (let i = 0; i < PAYLOAD_BYTES; i++) packet[12 + i] = (seq + i * 7) & 0xff;
  return packet;
}

/** The textbook way: a new AES-CTR cipher and a new HMAC for every packet. */
function naiveProtect(
  keys: ReturnType<typeof deriveRtpKeys>,
  packet: Buffer,
  seq: number,
  tagBytes: number
): Buffer {
  const iv = Buffer.alloc(16);
  keys.salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ 0x1234abcd) >>> 0, 4);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  const cipher = createCipheriv('aes-128-ctr', keys.encryptionKey, iv);
  const encrypted = Buffer.concat([packet.subarray(0, 12), cipher.update(packet.subarray(12))]);
  const roc = Buffer.alloc(4);
  const tag = createHmac('sha1', keys.authenticationKey)
    .update(encrypted)
    .update(roc)
    .digest()
    .subarray(0, tagBytes);
  return Buffer.concat([encrypted, tag]);
}

export async function run(report: BenchReport): Promise<void> {
  // Plain RTP: the header parse every received packet gets, and one loopback send.
  const header = new RtpHeaderView();
  const sample = plainPacket(1);
  const parseNs = nsPerCall('rtp parse', () => header.parse(sample, sample.length), SAMPLING);
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', () => resolve()));
  receiver.on('message', () => undefined);
  const port = receiver.address().port;
  const send = (): void => sender.send(sample, port, '127.0.0.1');
  const sendNs = nsPerCall('rtp send', send, SAMPLING);
  const sendCpuNs = cpuNsPerCall(send, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  sender.close();
  receiver.close();
  report.add({ suite: 'srtp', name: 'plain RTP header parse (172 B)', nsPerFrame: parseNs });
  report.add({
    suite: 'srtp',
    name: 'plain RTP send, loopback UDP (172 B)',
    nsPerFrame: sendNs,
    extra: { cpuNs: sendCpuNs }
  });

  for (const suiteName of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as SrtpSuiteName[]) {
    const suite = SRTP_SUITES[suiteName];
    const master = randomBytes(30);
    const packets = Array.from({ length: PACKETS }, (_, i) => plainPacket(i));
    const out = Buffer.alloc(12 + PAYLOAD_BYTES + 16);

    let sendSeq = 0;
    const sending = new SrtpContext(suite, master);
    const protect = (): void => {
      sending.protectRtp(packets[sendSeq++ & (PACKETS - 1)], 12 + PAYLOAD_BYTES, out);
    };
    const protectNs = nsPerCall(`${suiteName} protect`, protect, SAMPLING);
    const protectCpuNs = cpuNsPerCall(protect);
    const protectBytes = await bytesPerCall(protect, 20_000);

    // Unprotect needs packets it has not seen: protect a stream once, replay it into fresh receivers.
    const streamSender = new SrtpContext(suite, master);
    const wire = packets.map((p) => {
      const n = streamSender.protectRtp(p, p.length, out);
      return Buffer.from(out.subarray(0, n));
    });
    const work = Buffer.alloc(wire[0].length);
    let receiving = new SrtpContext(suite, master);
    let receiveSeq = 0;
    const unprotect = (): void => {
      if (receiveSeq === PACKETS) {
        receiveSeq = 0;
        receiving = new SrtpContext(suite, master);
      }
      work.set(wire[receiveSeq++]);
      if (receiving.unprotectRtp(work, work.length) < 0) throw new Error('bench packet failed to unprotect');
    };
    const unprotectNs = nsPerCall(`${suiteName} unprotect`, unprotect, SAMPLING);
    const unprotectCpuNs = cpuNsPerCall(unprotect);
    const unprotectBytes = await bytesPerCall(unprotect, 20_000);

    const keys = deriveRtpKeys(master.subarray(0, 16), master.subarray(16));
    let naiveSeq = 0;
    const naive = (): void => {
      naiveProtect(keys, packets[naiveSeq & (PACKETS - 1)], naiveSeq++ & 0xffff, suite.rtpTagBytes);
    };
    const naiveNs = nsPerCall(`${suiteName} naive protect`, naive, SAMPLING);
    const naiveCpuNs = cpuNsPerCall(naive);
    const naiveBytes = await bytesPerCall(naive, 20_000);

    report.add({
      suite: 'srtp',
      name: `${suiteName} protect`,
      nsPerFrame: protectNs,
      extra: {
        cpuNs: protectCpuNs,
        bytesPerPacket: Math.round(protectBytes),
        cpuXPlainSend: protectCpuNs / sendCpuNs,
        naiveCpuNs,
        naiveBytesPerPacket: Math.round(naiveBytes),
        cpuXFasterThanNaive: naiveCpuNs / protectCpuNs,
        wallXFasterThanNaive: naiveNs / protectNs
      }
    });
    report.add({
      suite: 'srtp',
      name: `${suiteName} unprotect`,
      nsPerFrame: unprotectNs,
      extra: {
        cpuNs: unprotectCpuNs,
        bytesPerPacket: Math.round(unprotectBytes),
        cpuXPlainSend: unprotectCpuNs / sendCpuNs
      }
    });
  }
}
