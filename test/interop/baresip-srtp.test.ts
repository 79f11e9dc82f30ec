/**
 * baresip with SIP over TLS and mandatory SRTP (srtp.so, mediaenc=srtp-mand) in one conference
 * with a plain-RTP test phone: each hears the other, and a capture of the loopback interface
 * shows the baresip leg carries no plain G.711 while the plain leg does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { Baresip } from '../support/baresip.js';
import { sine } from '../support/dsp-prng.js';
import { hasPeer } from '../support/peers.js';
import { rmsDbfs, toneLevelDb, ulawDecode } from '../support/tone-analysis.js';
import { TonePhone } from '../support/tone-phone.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';
import { UdpCapture } from '../support/udp-capture.js';
import type { UdpRecord } from '../support/rtp-pcap.js';
import { sleep, waitFor } from '../support/wait.js';

const ready = hasPeer('baresip') && hasPeer('openssl') && hasPeer('tcpdump');
const BARESIP_HZ = 1000;
const PHONE_HZ = 440;
const MIN_PORT = 35000 + 2 * Math.floor(Math.random() * 500);
const MAX_PORT = MIN_PORT + 39;

let engine: Engine;
let tlsPort: number;
let udpPort: number;
let certificate: TestCertificate;
let baresipPem: string;
const calls: UASCallChannel[] = [];

beforeAll(async () => {
  if (!ready) return;
  certificate = makeTestCertificate();
  baresipPem = join(certificate.dir, 'baresip.pem');
  writeFileSync(baresipPem, Buffer.concat([certificate.cert, certificate.key]));
  engine = new Engine({
    sip: {
      host: '127.0.0.1',
      port: 0,
      transports: ['udp'],
      tls: { port: 0, cert: certificate.cert, key: certificate.key, ca: certificate.cert }
    },
    rtp: { minPort: MIN_PORT, maxPort: MAX_PORT, srtp: 'offered' }
  });
  engine.on('call', async (channel) => {
    calls.push(channel);
    await channel.answer();
    await channel.transferToConferenceRoom(engine.createChannel(), 'secure', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
      secondsTimeout: 10
    });
  });
  await engine.start();
  tlsPort = engine.sipAddresses().find((a) => a.protocol === 'tls')!.port;
  udpPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
  certificate?.remove();
});

/**
 * How much of the signal's power is one tone, in dB: about +3 for a pure sine (Goertzel's 0 dB
 * full-scale sine against its -3 dBFS RMS), far below 0 for noise such as ciphertext read as PCMU.
 */
function tonalityDb(pcm: Int16Array, hz: number): number {
  return toneLevelDb(pcm, hz, 8000) - rmsDbfs(pcm);
}

/** The 20 ms payload of each captured RTP packet that `match`es, decoded as if it were plain PCMU. */
function asPcmu(records: UdpRecord[], match: (r: UdpRecord) => boolean): Int16Array[] {
  return records.filter(match).map((r) => Int16Array.from(r.payload.subarray(12, 12 + 160), ulawDecode));
}

/** Tonality of each packet at `hz`, sorted: the loudest-looking packet last. */
function packetTonality(packets: Int16Array[], hz: number): number[] {
  return packets.map((pcm) => tonalityDb(pcm, hz)).sort((x, y) => x - y);
}

describe.runIf(ready)('baresip over TLS with SRTP, in a room with a plain-RTP phone', () => {
  it('each hears the other; the SRTP leg shows no G.711 on the wire, the plain leg does', async () => {
    const sipPort = 28000 + 4 * Math.floor(Math.random() * 450);
    const bare = new Baresip({
      microphone: sine(8000 * 20, BARESIP_HZ, 8000, 9000),
      sipPort,
      mediaenc: 'srtp-mand',
      certificatePath: baresipPem,
      caPath: certificate.certPath
    });
    const phone = await TonePhone.create({ toneHz: PHONE_HZ, user: 'plainphone' });
    const capture = new UdpCapture();
    try {
      await capture.start(MIN_PORT, MAX_PORT);
      await sleep(500);
      bare.type(`/dial sip:secure@127.0.0.1:${tlsPort};transport=tls\n`);
      await waitFor(() => calls.length === 1 && calls[0].state === State.TRANSFERRED, 10_000);
      await phone.call(`sip:secure@127.0.0.1:${udpPort}`);
      await waitFor(() => calls.length === 2 && calls.every((c) => c.state === State.TRANSFERRED), 10_000);
      const [secureCall, plainCall] = calls;
      await sleep(800);
      phone.clearReceived();
      await sleep(1500);
      const heardByPhone = phone.receivedPcm();
      // baresip's SRTCP reports (RFC 3550 §6.2: about every 5 s) must authenticate and decrypt.
      await waitFor(() => (secureCall.rtpStats()?.rtcpReceived ?? 0) > 0, 15_000);
      const secureStats = secureCall.rtpStats()!;
      const plainStats = plainCall.rtpStats()!;
      expect([secureCall.codec, plainCall.codec]).toEqual(['PCMU', 'PCMU']);
      const records = await capture.stop();
      await phone.hangUp();
      bare.type('/hangup\n');
      await waitFor(() => /terminated/.test(bare.output), 5000);
      const heardByBaresip = bare.heard();
      const tail = heardByBaresip.subarray(Math.max(0, heardByBaresip.length - 8000 * 2));

      const securePort = secureStats.remotePort!;
      const plainPort = plainStats.remotePort!;
      const fromBaresip = asPcmu(records, (r) => r.srcPort === securePort);
      const toBaresip = asPcmu(records, (r) => r.dstPort === securePort);
      const fromPhone = asPcmu(records, (r) => r.srcPort === plainPort);
      const db = (pcm: Int16Array, hz: number): number => toneLevelDb(pcm, hz, 8000);
      const fromBaresipTonality = packetTonality(fromBaresip, BARESIP_HZ);
      const toBaresipTonality = packetTonality(toBaresip, PHONE_HZ);
      const fromPhoneTonality = packetTonality(fromPhone, PHONE_HZ);
      const median = (sorted: number[]): string => sorted[sorted.length >> 1].toFixed(1);
      const highest = (sorted: number[]): string => sorted[sorted.length - 1].toFixed(1);
      console.log(
        `SRTP suite ${secureStats.srtpSuite}; baresip leg: ${secureStats.packetsReceived} in, ${secureStats.packetsSent} out, ` +
          `SRTCP ${secureStats.rtcpReceived} in (${secureStats.rtcpDiscarded} discarded), ${secureStats.packetsFromOtherSources} from strangers, peer ${secureStats.remoteAddress}:${securePort}\n` +
          `phone hears baresip ${db(heardByPhone, BARESIP_HZ).toFixed(1)} dB; baresip hears phone ${db(tail, PHONE_HZ).toFixed(1)} dB\n` +
          `on the wire read as PCMU, packet tonality (median / highest): from baresip ${median(fromBaresipTonality)} / ${highest(fromBaresipTonality)} dB at 1 kHz over ${fromBaresip.length} packets; ` +
          `to baresip ${median(toBaresipTonality)} / ${highest(toBaresipTonality)} dB at 440 Hz over ${toBaresip.length}; ` +
          `from the plain phone ${median(fromPhoneTonality)} dB (lowest ${fromPhoneTonality[0].toFixed(1)}) at 440 Hz over ${fromPhone.length}`
      );
      expect(secureStats.srtpSuite).toMatch(/^AES_CM_128_HMAC_SHA1_(80|32)$/);
      expect(plainStats.srtpSuite).toBeUndefined();
      expect(secureStats.discardReasons.srtpAuth).toBe(0);
      // An SR got through, so SRTCP authenticated and decrypted (a plain SR would not). libre also
      // sends a lone APP "PINGPONG", plain and as SRTCP: both are discarded (not SRTCP / no SR or RR).
      expect(secureStats.rtcpReceived).toBeGreaterThan(0);
      expect(db(heardByPhone, BARESIP_HZ)).toBeGreaterThan(-25);
      expect(db(tail, PHONE_HZ)).toBeGreaterThan(-35);
      // The control: the plain leg's tone is plain to see in the same capture.
      // A plain 20 ms tone packet reads at about +3 dB. Ciphertext read as PCMU is noise: a
      // Rayleigh-distributed Goertzel bin with its median near -16 dB, so reaching 0 dB (5.6 times
      // the median amplitude) has a chance of about 2^-31 per packet.
      expect(fromPhoneTonality[0]).toBeGreaterThan(1.5);
      expect(fromBaresip.length).toBeGreaterThan(50);
      expect(toBaresip.length).toBeGreaterThan(50);
      expect(fromBaresipTonality[fromBaresipTonality.length - 1]).toBeLessThan(0);
      expect(toBaresipTonality[toBaresipTonality.length - 1]).toBeLessThan(0);
    } finally {
      await capture.close();
      await phone.close();
      await bare.close();
    }
  });

  it('calls baresip over TLS with SRTP required: an RTP/SAVP offer, a verified TLS connection, audio both ways', async () => {
    const sipPort = 28000 + 4 * Math.floor(Math.random() * 450);
    const secureOnly = new Engine({
      sip: {
        host: '127.0.0.1',
        port: 0,
        transports: ['udp'],
        tls: { port: 0, cert: certificate.cert, key: certificate.key, ca: certificate.cert }
      },
      rtp: { minPort: MIN_PORT, maxPort: MAX_PORT, srtp: 'required' }
    });
    await secureOnly.start();
    const bare = new Baresip({
      microphone: sine(8000 * 20, BARESIP_HZ, 8000, 9000),
      sipPort,
      mediaenc: 'srtp-mand',
      certificatePath: baresipPem,
      caPath: certificate.certPath,
      autoAnswer: true
    });
    try {
      await sleep(500);
      const channel = secureOnly.createChannel();
      expect(
        await channel.call(`sip:baresip@127.0.0.1:${sipPort + 1};transport=tls`, { secondsTimeout: 10 })
      ).toBe(State.ANSWERED);
      await waitFor(() => (channel.rtpStats()?.packetsReceived ?? 0) > 50, 10_000);
      const stats = channel.rtpStats()!;
      expect(stats.srtpSuite).toBe('AES_CM_128_HMAC_SHA1_80');
      expect(stats.discardReasons.srtpAuth).toBe(0);
      await channel.playText('this call is encrypted');
      await channel.hangUp();
      await waitFor(() => /terminated|closed/.test(bare.output), 5000);
      const level = rmsDbfs(bare.heard());
      console.log(
        `engine called baresip: ${stats.packetsReceived} SRTP packets in, baresip heard the prompt at ${level.toFixed(1)} dBFS`
      );
      expect(level).toBeGreaterThan(-45);
    } finally {
      await bare.close();
      await secureOnly.stop();
    }
  });

  it("answers baresip's RTP/SAVPF offer (SRTP with RTCP feedback, RFC 5124) in kind: it and a phone hear each other", async () => {
    const before = calls.length;
    const bare = new Baresip({
      microphone: sine(8000 * 20, BARESIP_HZ, 8000, 9000),
      sipPort: 28000 + 4 * Math.floor(Math.random() * 450),
      mediaenc: 'srtp-mandf'
    });
    const phone = await TonePhone.create({ toneHz: PHONE_HZ, user: 'feedbackphone' });
    try {
      await sleep(500);
      bare.type(`/dial sip:feedback@127.0.0.1:${udpPort}\n`);
      await waitFor(() => calls.length === before + 1 && calls[before].state === State.TRANSFERRED, 10_000);
      await phone.call(`sip:feedback@127.0.0.1:${udpPort}`);
      await waitFor(
        () => calls.length === before + 2 && calls[before + 1].state === State.TRANSFERRED,
        10_000
      );
      await sleep(800);
      phone.clearReceived();
      await sleep(1500);
      const heardByPhone = phone.receivedPcm();
      const stats = calls[before].rtpStats()!;
      await phone.hangUp();
      bare.type('/hangup\n');
      await waitFor(() => /terminated/.test(bare.output), 5000);
      const heardByBaresip = bare.heard();
      const tail = heardByBaresip.subarray(Math.max(0, heardByBaresip.length - 8000 * 2));
      const phoneHears = toneLevelDb(heardByPhone, BARESIP_HZ, 8000);
      const baresipHears = toneLevelDb(tail, PHONE_HZ, 8000);
      console.log(
        `baresip RTP/SAVPF: ${stats.packetsReceived} SRTP packets in (suite ${stats.srtpSuite}); phone hears baresip ${phoneHears.toFixed(1)} dB, baresip hears phone ${baresipHears.toFixed(1)} dB`
      );
      expect(stats.srtpSuite).toMatch(/^AES_CM_128_HMAC_SHA1_(80|32)$/);
      expect(stats.discardReasons.srtpAuth).toBe(0);
      expect(phoneHears).toBeGreaterThan(-25);
      expect(baresipHears).toBeGreaterThan(-35);
    } finally {
      await phone.close();
      await bare.close();
    }
  });

  it("an engine with SRTP off refuses baresip's RTP/SAVP offer with 488 before the application hears of it", async () => {
    const plainOnly = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: MIN_PORT, maxPort: MAX_PORT, srtp: 'off' }
    });
    const offered: UASCallChannel[] = [];
    plainOnly.on('call', (channel) => {
      offered.push(channel);
      void channel.answer().catch(() => undefined);
    });
    await plainOnly.start();
    const bare = new Baresip({ microphone: sine(8000 * 5, BARESIP_HZ, 8000, 9000), mediaenc: 'srtp-mand' });
    try {
      await sleep(500);
      bare.type(`/dial sip:secure@127.0.0.1:${plainOnly.sipAddresses()[0].port}\n`);
      await waitFor(() => /488/.test(bare.output), 8000);
      expect(offered).toHaveLength(0);
      expect(plainOnly.rtpPortsInUse).toBe(0);
    } finally {
      await bare.close();
      await plainOnly.stop();
    }
  });
});
