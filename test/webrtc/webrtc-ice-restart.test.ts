/**
 * A browser that restarts ICE (after a network change: RFC 8839 §4.4.1.1.1, `createOffer({
 * iceRestart: true })`) sends a re-INVITE with new ICE credentials. The engine's peer connection
 * takes it and gathers anew, and the 200 carries its new credentials; the call, its room and its
 * audio both ways go on. Before, every ICE restart got 488, and a browser that changed networks
 * lost its call. A restart that changes the media sections is still refused (488), the call kept,
 * and so is any past the call's tenth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';

const HEARD_DB = -40;
const ROOM_URI = 'sip:restart1@127.0.0.1';

let engine: Engine;
let sipPort: number;
let wsUrl: string;
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 63100, maxPort: 63199 },
    webrtc: { iceServers: [] },
    logLevel: 'silent'
  });
  engine.on('call', async (channel) => {
    try {
      await channel.answer();
    } catch {
      return;
    }
    channels.set(/sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '', channel);
    await channel.transferToConferenceRoom(engine.createChannel(), 'restart1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
      secondsTimeout: 30
    });
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

/** The candidate pair the browser's peer connection sends on. */
async function selectedPair(web: WebRtcCaller): Promise<string | undefined> {
  let selected: string | undefined;
  (await web.pc.getStats()).forEach((report: { type: string; selectedCandidatePairId?: string }) => {
    if (report.type === 'transport') selected = report.selectedCandidatePairId;
  });
  return selected;
}

const iceOf = (sdp: string): string =>
  ['ice-ufrag', 'ice-pwd'].map((name) => new RegExp(`a=${name}:(\\S+)`).exec(sdp)?.[1] ?? '').join(' ');

/** What the browser and the phone hear of each other's tone over 1.5 s, in dB. */
async function levels(web: WebRtcCaller, phone: TonePhone): Promise<{ browser: number; phone: number }> {
  await sleep(500);
  web.clearReceived();
  phone.clearReceived();
  await sleep(1500);
  const heard = web.received();
  return {
    browser: toneLevelDb(heard.pcm, 980, heard.rateHz),
    phone: toneLevelDb(phone.receivedPcm(), 440, 8000)
  };
}

describe('a browser restarting ICE in a conference', () => {
  it('gets an answer with new ICE credentials and keeps its call and its audio both ways', async () => {
    const web = new WebRtcCaller({ toneHz: 440, user: 'webone' });
    const phone = await TonePhone.create({ toneHz: 980, user: 'telone' });
    try {
      const ok = await web.call(wsUrl, ROOM_URI);
      expect(ok.status).toBe(200);
      await phone.call(`sip:restart1@127.0.0.1:${sipPort}`);
      await waitFor(
        () =>
          channels.get('webone')?.state === State.TRANSFERRED &&
          channels.get('telone')?.state === State.TRANSFERRED,
        15_000
      );
      await waitFor(() => web.pc.connectionState === 'connected', 15_000);
      const before = await levels(web, phone);
      expect(before.browser).toBeGreaterThan(HEARD_DB);
      expect(before.phone).toBeGreaterThan(HEARD_DB);

      const offeredBefore = iceOf(web.pc.localDescription!.sdp);
      const pairBefore = await selectedPair(web);
      expect(pairBefore).toBeDefined();
      const restarted = await web.restartIce(ROOM_URI);
      expect(restarted.status).toBe(200);
      expect(iceOf(web.pc.localDescription!.sdp)).not.toBe(offeredBefore);
      expect(iceOf(restarted.bodyText)).not.toBe(iceOf(ok.bodyText));
      expect(restarted.bodyText).toMatch(/^a=candidate:/m);
      // Connectivity checks with the new credentials succeeded: the browser sends on a new pair.
      let pairAfter: string | undefined;
      await waitForAsync(async () => {
        pairAfter = await selectedPair(web);
        return pairAfter !== undefined && pairAfter !== pairBefore;
      }, 15_000);

      const after = await levels(web, phone);
      console.log(
        `before the restart: browser hears ${before.browser.toFixed(1)} dB, phone ${before.phone.toFixed(1)} dB; ` +
          `after: ${after.browser.toFixed(1)} and ${after.phone.toFixed(1)} dB`
      );
      expect(after.browser).toBeGreaterThan(HEARD_DB);
      expect(after.phone).toBeGreaterThan(HEARD_DB);
      expect(channels.get('webone')?.state).toBe(State.TRANSFERRED);
      expect(web.sipClient.received.some((m) => 'method' in m && m.method === 'BYE')).toBe(false);

      // A session refresh after the restart carries its new offer and gets the new answer again.
      const refresh = await web.reinvite(ROOM_URI);
      expect(refresh.status).toBe(200);
      expect(iceOf(refresh.bodyText)).toBe(iceOf(restarted.bodyText));

      // A restart that adds a section is refused, and the call goes on.
      const withVideo = await web.reinvite(
        ROOM_URI,
        true,
        (sdp) =>
          sdp
            .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:rstr')
            .replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:restartrestartrestart12')
            .replace(/a=group:BUNDLE (\S+)/, 'a=group:BUNDLE $1 v1') +
          'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v1\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n'
      );
      expect(withVideo.status).toBe(488);
      await sleep(300);
      expect(channels.get('webone')?.state).toBe(State.TRANSFERRED);
      expect(openPeerConnections()).toBe(1);

      // Each restart keeps the sockets it gathered: a call makes at most 10, then gets 488.
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await web.restartIce(ROOM_URI)).status);
      expect(statuses).toEqual([...Array<number>(9).fill(200), 488]);
      expect(channels.get('webone')?.state).toBe(State.TRANSFERRED);
      await waitFor(() => web.pc.connectionState === 'connected', 15_000);
      const last = await levels(web, phone);
      expect(last.browser).toBeGreaterThan(HEARD_DB);
      expect(last.phone).toBeGreaterThan(HEARD_DB);
    } finally {
      await web.close();
      await phone.close();
    }
  });
});
