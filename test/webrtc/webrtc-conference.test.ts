/**
 * A browser's media leg end to end, with real components on loopback: the test's own
 * RTCPeerConnection (@roamhq/wrtc in this process) calls the engine over SIP on a WebSocket,
 * the engine answers with its own peer connection, and both join a room with a SIP phone
 * (RTP/PCMU). Each hears the other's tone and not its own. Bad offers are refused with 488
 * and disturb no other call. Every peer connection is closed at the end (and the engine's
 * count is checked), because @roamhq/wrtc crashes a process that exits with one open.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Engine,
  State,
  ConferencePartyMediaSettings,
  ConferenceLifetimeControl,
  type UASCallChannel
} from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';
import { waitFor, sleep } from '../support/wait.js';

const HEARD_DB = -40;
const ABSENT_DB = -55;

let engine: Engine;
let sipPort: number;
let wsUrl: string;
const channels = new Map<string, UASCallChannel>();
let channelTalking: (user: string) => void = () => undefined;
const callers: WebRtcCaller[] = [];
const phones: TonePhone[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 33000, maxPort: 33999 }
  });
  engine.on('call', async (channel) => {
    try {
      await channel.answer();
    } catch {
      return; // refused offers end here (488)
    }
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    channel.on('talking', () => channelTalking(user));
    const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
    const media = new ConferencePartyMediaSettings({ beepOnEntry: false, exitOnDtmfDigit: '#' });
    await channel.transferToConferenceRoom(engine.createChannel(), room, {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: media,
      secondsTimeout: 20
    });
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  await Promise.all(callers.map((c) => c.close()));
  await Promise.all(phones.map((p) => p.close()));
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

async function webCaller(toneHz: number | null, user: string): Promise<WebRtcCaller> {
  const caller = new WebRtcCaller({ toneHz, user });
  callers.push(caller);
  return caller;
}

async function phone(toneHz: number, user: string): Promise<TonePhone> {
  const p = await TonePhone.create({ toneHz, user });
  phones.push(p);
  return p;
}

/** Lets audio settle, then returns what arrived in a window of `ms`. */
async function listen(
  web: WebRtcCaller[],
  tel: TonePhone[],
  ms = 1500
): Promise<{ web: Array<{ pcm: Int16Array; rateHz: number }>; tel: Int16Array[] }> {
  await sleep(500);
  web.forEach((w) => w.clearReceived());
  tel.forEach((t) => t.clearReceived());
  await sleep(ms);
  return { web: web.map((w) => w.received()), tel: tel.map((t) => t.receivedPcm()) };
}

describe('a browser (WebRTC over SIP on a WebSocket) in a room with a phone', () => {
  it('each hears the other and not itself', async () => {
    const web = await webCaller(440, 'webone');
    const tel = await phone(980, 'telone');
    const ok = await web.call(wsUrl, 'sip:tones1@127.0.0.1');
    expect(ok.status).toBe(200);
    expect(ok.bodyText).toContain('UDP/TLS/RTP/SAVPF');
    expect(ok.bodyText).toContain('a=fingerprint:');
    const talkers = new Set<string>();
    channelTalking = (user) => talkers.add(user);
    await tel.call(`sip:tones1@127.0.0.1:${sipPort}`);
    await waitFor(
      () =>
        channels.get('webone')?.state === State.TRANSFERRED &&
        channels.get('telone')?.state === State.TRANSFERRED,
      15_000
    );
    await waitFor(() => web.pc.connectionState === 'connected', 15_000);
    const heard = await listen([web], [tel]);
    const w = heard.web[0];
    const t = heard.tel[0];
    const webHears = [toneLevelDb(w.pcm, 980, w.rateHz), toneLevelDb(w.pcm, 440, w.rateHz)];
    const telHears = [toneLevelDb(t, 440, 8000), toneLevelDb(t, 980, 8000)];
    console.log(
      `browser (${w.rateHz} Hz, ${w.pcm.length} samples) hears 980/440: ${webHears.map((d) => d.toFixed(1)).join(' / ')} dB; phone hears 440/980: ${telHears.map((d) => d.toFixed(1)).join(' / ')} dB`
    );
    expect(webHears[0]).toBeGreaterThan(HEARD_DB);
    expect(webHears[1]).toBeLessThan(ABSENT_DB);
    expect(telHears[0]).toBeGreaterThan(HEARD_DB);
    expect(telHears[1]).toBeLessThan(ABSENT_DB);
    // The browser's talker detector runs on its decoded audio like a phone's.
    await waitFor(() => talkers.has('webone') && talkers.has('telone'), 10_000);

    // The keypad: '#' over SIP INFO retrieves the browser from the room.
    expect(await web.infoDigit('#', 'sip:tones1@127.0.0.1')).toBe(200);
    await waitFor(() => channels.get('webone')?.state === State.ANSWERED, 10_000);
    await web.close();
    await tel.close();
  });

  it('closing the browser mid-conference (no BYE) ends its channel with a cause and closes its peer connection', async () => {
    const web = await webCaller(440, 'webtwo');
    const tel = await phone(980, 'teltwo');
    await web.call(wsUrl, 'sip:tones2@127.0.0.1');
    await tel.call(`sip:tones2@127.0.0.1:${sipPort}`);
    await waitFor(
      () =>
        channels.get('webtwo')?.state === State.TRANSFERRED &&
        channels.get('teltwo')?.state === State.TRANSFERRED,
      15_000
    );
    const peersBefore = openPeerConnections();
    await web.close();
    await waitFor(() => channels.get('webtwo')?.state === State.IDLE, 10_000);
    expect(channels.get('webtwo')?.cause()).toBeDefined();
    await waitFor(() => openPeerConnections() === peersBefore - 1, 10_000);
    expect(engine.rooms.get('tones2')?.parties.length ?? 0).toBeLessThanOrEqual(1);
    // The phone's call goes on.
    expect(channels.get('teltwo')?.state).toBe(State.TRANSFERRED);
    await tel.close();
  });

  it('refuses an offer with only video (488) and one whose DTLS fingerprint does not match ends cleanly, without touching another call', async () => {
    const tel = await phone(980, 'telthree');
    const other = await phone(620, 'telfour');
    await tel.call(`sip:tones3@127.0.0.1:${sipPort}`);
    await other.call(`sip:tones3@127.0.0.1:${sipPort}`);
    await waitFor(
      () =>
        channels.get('telthree')?.state === State.TRANSFERRED &&
        channels.get('telfour')?.state === State.TRANSFERRED,
      15_000
    );

    const videoOnly = await webCaller(440, 'webvideo');
    const refused = await videoOnly.call(wsUrl, 'sip:tones3@127.0.0.1', (sdp) =>
      sdp.replace(/m=audio /, 'm=video ').replace(/opus\/48000\/2/g, 'VP8/90000')
    );
    expect(refused.status).toBe(488);
    await videoOnly.close();

    const forged = await webCaller(440, 'webforged');
    const fakeFingerprint = 'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':');
    const answered = await forged.call(wsUrl, 'sip:tones3@127.0.0.1', (sdp) =>
      sdp.replace(/a=fingerprint:[^\r\n]+/g, fakeFingerprint)
    );
    expect(answered.status).toBe(200);
    // DTLS cannot complete against a certificate that does not match: the engine ends the leg.
    await forged.sipClient.requestFor(forged.id, 'BYE', 30_000);
    await waitFor(() => channels.get('webforged')?.state === State.IDLE, 10_000);
    await forged.close();

    const heard = await listen([], [tel, other]);
    expect(toneLevelDb(heard.tel[0], 620, 8000)).toBeGreaterThan(HEARD_DB);
    expect(toneLevelDb(heard.tel[1], 980, 8000)).toBeGreaterThan(HEARD_DB);
    await tel.close();
    await other.close();
  });
});

describe('engine.stop() with a browser in a call', () => {
  it('hangs the browser up (BYE over its WebSocket) and closes the peer connection', async () => {
    const other = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      rtp: { minPort: 33000, maxPort: 33999 }
    });
    other.on('call', (channel) => void channel.answer().catch(() => undefined));
    await other.start();
    const caller = await webCaller(440, 'webstop');
    try {
      const before = openPeerConnections();
      const url = `ws://127.0.0.1:${other.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
      expect((await caller.call(url, 'sip:anyroom@127.0.0.1')).status).toBe(200);
      await waitFor(() => other.activeChannels().some((c) => c.state === State.ANSWERED), 10_000);
      expect(openPeerConnections()).toBe(before + 1);
      const bye = caller.sipClient.requestFor(caller.id, 'BYE', 10_000);
      await other.stop();
      expect(openPeerConnections()).toBe(before);
      await bye;
    } finally {
      await other.stop();
    }
  });
});

describe('ICE configuration', () => {
  it('binds the peer connection inside webrtc.portRange and offers only host candidates without iceServers', async () => {
    const min = 50000 + 10 * Math.floor(Math.random() * 900);
    const other = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      webrtc: { portRange: { min, max: min + 9 } },
      rtp: { minPort: 33000, maxPort: 33999 }
    });
    other.on('call', (channel) => void channel.answer().catch(() => undefined));
    await other.start();
    const caller = await webCaller(440, 'webrange');
    try {
      const url = `ws://127.0.0.1:${other.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
      const ok = await caller.call(url, 'sip:anyroom@127.0.0.1');
      const candidates = ok.bodyText.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
      expect(candidates.length).toBeGreaterThan(0);
      for (const line of candidates) {
        const [, , protocol, , , port, , type] = line.split(' ');
        expect(type).toBe('host');
        if (protocol.toLowerCase() === 'udp') expect(Number(port)).toBeGreaterThanOrEqual(min);
        if (protocol.toLowerCase() === 'udp') expect(Number(port)).toBeLessThanOrEqual(min + 9);
      }
      await waitFor(() => caller.pc.connectionState === 'connected', 15_000);
    } finally {
      await caller.close();
      await other.stop();
    }
  });

  it('refuses a bad port range when the engine is made', () => {
    expect(() => new Engine({ webrtc: { portRange: { min: 6000, max: 5000 } } })).toThrow(RangeError);
  });
});

describe('a browser channel outside a room', () => {
  it('collects keypad digits (SIP INFO) with getDigits, records what the browser says, and plays a prompt it hears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uasmedia-webrtc-'));
    const other = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      rtp: { minPort: 33000, maxPort: 33999 },
      files: { recordFolder: dir }
    });
    const results: { digits?: string; recorded?: boolean } = {};
    other.on('call', (channel) => {
      const handle = async (): Promise<void> => {
        await channel.answer();
        results.digits = await channel.getDigits({ count: 2, secondsTimeout: 20 });
        await channel.record(join(dir, 'web.wav'), { maxSeconds: 1.5 });
        results.recorded = true;
        await channel.playText('Thank you, your digits were received and recorded. Goodbye.');
      };
      // The prompt may still be playing when the engine stops: that rejection is expected.
      void handle().catch(() => undefined);
    });
    await other.start();
    const caller = await webCaller(440, 'webdigits');
    try {
      const url = `ws://127.0.0.1:${other.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
      expect((await caller.call(url, 'sip:anyroom@127.0.0.1')).status).toBe(200);
      await waitFor(() => caller.pc.connectionState === 'connected', 15_000);
      expect(await caller.infoDigit('4', 'sip:anyroom@127.0.0.1')).toBe(200);
      expect(await caller.infoDigit('2', 'sip:anyroom@127.0.0.1')).toBe(200);
      await waitFor(() => results.recorded === true, 20_000);
      expect(results.digits).toBe('42');
      const wav = new wavefile.WaveFile(readFileSync(join(dir, 'web.wav')));
      const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
      const rateHz = (wav.fmt as { sampleRate: number }).sampleRate;
      expect(samples.length).toBeGreaterThan(rateHz);
      expect(toneLevelDb(samples.subarray(Math.floor(rateHz / 2)), 440, rateHz)).toBeGreaterThan(-30);
      // The prompt is synthesised in a worker first, which a busy host makes slow: wait for its
      // speech, half a second of it louder than silence, instead of listening for a fixed time.
      caller.clearReceived();
      const recentRms = (): number => {
        const { pcm, rateHz } = caller.received();
        const recent = pcm.subarray(Math.max(0, pcm.length - rateHz / 2));
        return Math.sqrt(recent.reduce((sum, v) => sum + v * v, 0) / Math.max(1, recent.length));
      };
      await waitFor(() => recentRms() > 300, 20_000);
    } finally {
      await caller.close();
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
