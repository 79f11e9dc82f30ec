/**
 * baresip with SIP over TLS and mandatory SRTP (srtp.so, mediaenc=srtp-mand) in one conference
 * with a plain-RTP test phone: each hears the other, and a capture of the loopback interface
 * shows the baresip leg carries no plain G.711 while the plain leg does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferenceLifetimeControl, ConferencePartyMediaSettings, Engine, State, type UASCallChannel } from '../../engine/index.js';
import { Baresip } from '../support/baresip.js';
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
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'], tls: { port: 0, cert: certificate.cert, key: certificate.key, ca: certificate.cert } },
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

function tone(seconds: number, freqHz: number, amplitude: number): Int16Array {
  const pcm = new Int16Array(8000 * seconds);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / 8000));
  return pcm;
}

/**
 * How much of the signal's power is one tone, in dB: about +3 for a pure sine (Goertzel's 0 dB
 * full-scale sine against its -3 dBFS RMS), far below 0 for noise such as ciphertext read as PCMU.
 */
function tonalityDb(pcm: Int16Array, hz: number): number {
  return toneLevelDb(pcm, hz, 8000) - rmsDbfs(pcm);
}

/** The payloads of the captured RTP packets that `match`, decoded as if they were plain PCMU. */
function asPcmu(records: UdpRecord[], match: (r: UdpRecord) => boolean): Int16Array {
  const payloads = records.filter(match).map((r) => r.payload.subarray(12, 12 + 160));
  const pcm = new Int16Array(payloads.length * 160);
  payloads.forEach((p, i) => p.forEach((b, j) => (pcm[i * 160 + j] = ulawDecode(b))));
  return pcm;
}

describe.runIf(ready)('baresip over TLS with SRTP, in a room with a plain-RTP phone', () => {
  it('each hears the other; the SRTP leg shows no G.711 on the wire, the plain leg does', async () => {
    const sipPort = 36000 + 4 * Math.floor(Math.random() * 500);
    const bare = new Baresip({ microphone: tone(20, BARESIP_HZ, 9000), sipPort, mediaenc: 'srtp-mand', certificatePath: baresipPem, caPath: certificate.certPath });
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
      const secureStats = secureCall.rtpStats()!;
      const plainStats = plainCall.rtpStats()!;
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
      console.log(
        `SRTP suite ${secureStats.srtpSuite}; baresip leg: ${secureStats.packetsReceived} in, ${secureStats.packetsSent} out, ${secureStats.packetsFromOtherSources} from strangers, peer ${secureStats.remoteAddress}:${securePort}\n` +
          `phone hears baresip ${db(heardByPhone, BARESIP_HZ).toFixed(1)} dB; baresip hears phone ${db(tail, PHONE_HZ).toFixed(1)} dB\n` +
          `on the wire read as PCMU, tonality: from baresip ${tonalityDb(fromBaresip, BARESIP_HZ).toFixed(1)} dB at 1 kHz over ${fromBaresip.length / 160} packets; ` +
          `to baresip ${tonalityDb(toBaresip, PHONE_HZ).toFixed(1)} dB at 440 Hz over ${toBaresip.length / 160}; from the plain phone ${tonalityDb(fromPhone, PHONE_HZ).toFixed(1)} dB at 440 Hz`
      );
      expect(secureStats.srtpSuite).toMatch(/^AES_CM_128_HMAC_SHA1_(80|32)$/);
      expect(plainStats.srtpSuite).toBeUndefined();
      expect(secureStats.discardReasons.srtpAuth).toBe(0);
      expect(db(heardByPhone, BARESIP_HZ)).toBeGreaterThan(-25);
      expect(db(tail, PHONE_HZ)).toBeGreaterThan(-35);
      // The control: the plain leg's tone is plain to see in the same capture.
      expect(tonalityDb(fromPhone, PHONE_HZ)).toBeGreaterThan(-3);
      expect(fromBaresip.length / 160).toBeGreaterThan(50);
      expect(toBaresip.length / 160).toBeGreaterThan(50);
      expect(tonalityDb(fromBaresip, BARESIP_HZ)).toBeLessThan(-20);
      expect(tonalityDb(toBaresip, PHONE_HZ)).toBeLessThan(-20);
    } finally {
      await capture.close();
      await phone.close();
      await bare.close();
    }
  });

  it("an engine with SRTP off refuses baresip's RTP/SAVP offer with 488", async () => {
    const plainOnly = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: MIN_PORT, maxPort: MAX_PORT, srtp: 'off' }
    });
    const failures: unknown[] = [];
    plainOnly.on('call', (channel) => void channel.answer().catch((error: unknown) => failures.push(error)));
    await plainOnly.start();
    const bare = new Baresip({ microphone: tone(5, BARESIP_HZ, 9000), mediaenc: 'srtp-mand' });
    try {
      await sleep(500);
      bare.type(`/dial sip:secure@127.0.0.1:${plainOnly.sipAddresses()[0].port}\n`);
      await waitFor(() => /488/.test(bare.output), 8000);
      expect(failures).toHaveLength(1);
      await waitFor(() => plainOnly.rtpPortsInUse === 0);
    } finally {
      await bare.close();
      await plainOnly.stop();
    }
  });
});
