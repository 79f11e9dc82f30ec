/**
 * A browser that refreshes its session (RFC 4028) with a re-INVITE: one carrying the offer it made
 * (same ICE credentials, same certificate) gets the answer it already has, and one without an
 * offer gets our description as the offer and takes the browser's as the answer. The call, its
 * peer connection and its audio go on (an ICE restart: webrtc-ice-restart.test.ts). Before, both refreshes got
 * 488, and a browser that was the session's refresher lost its call when the interval ran out.
 * A hold (sip.js re-offers `a=sendonly`) gets the answer with `a=recvonly`, and a re-offer that adds
 * a camera gets the answer with the video section refused (port 0): the unchanged answer made
 * Chromium refuse both and sip.js end the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { sleep, waitFor } from '../support/wait.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';

let engine: Engine;
let wsUrl: string;
const channels: UASCallChannel[] = [];
const ROOM_URI = 'sip:refresh@127.0.0.1';

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 61500, maxPort: 61599 },
    webrtc: { iceServers: [] },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => {
    channels.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

describe('a browser refreshing its session', () => {
  it('keeps its call through a re-INVITE with its offer and one without', async () => {
    const caller = new WebRtcCaller({ toneHz: 440 });
    try {
      const ok = await caller.call(wsUrl, ROOM_URI);
      expect(ok.status).toBe(200);
      await waitFor(() => channels[0]?.state === State.ANSWERED);

      const same = await caller.reinvite(ROOM_URI);
      expect(same.status).toBe(200);
      expect(same.bodyText).toBe(ok.bodyText);

      const offerless = await caller.reinvite(ROOM_URI, false);
      expect(offerless.status).toBe(200);
      expect(offerless.bodyText).toBe(ok.bodyText);

      await sleep(500);
      expect(channels[0].state).toBe(State.ANSWERED);
      expect(caller.sipClient.received.some((m) => 'method' in m && m.method === 'BYE')).toBe(false);
      expect(openPeerConnections()).toBe(1);
      caller.clearReceived();
      await waitFor(() => caller.received().pcm.length > 0); // its audio still comes
    } finally {
      await caller.close();
    }
  });

  it('answers a hold with the direction it asks for and a re-offer that adds video with the video refused, keeping the call', async () => {
    const caller = new WebRtcCaller({ toneHz: 440 });
    try {
      const ok = await caller.call(wsUrl, ROOM_URI);
      expect(ok.status).toBe(200);
      const channel = channels.at(-1)!;
      await waitFor(() => channel.state === State.ANSWERED);
      const direction = (body: string): string[] =>
        body.match(/^a=(sendrecv|sendonly|recvonly|inactive)/gm) ?? [];
      expect(direction(ok.bodyText)).toEqual(['a=sendrecv']);

      const hold = await caller.reinvite(ROOM_URI, true, (sdp) => sdp.replace(/a=sendrecv/g, 'a=sendonly'));
      expect(hold.status).toBe(200);
      expect(direction(hold.bodyText)).toEqual(['a=recvonly']);
      const resume = await caller.reinvite(ROOM_URI);
      expect(resume.status).toBe(200);
      // A re-offer that closes its audio section is no session refresh: 488.
      const closed = await caller.reinvite(ROOM_URI, true, (sdp) =>
        sdp.replace(/^m=audio \d+/m, 'm=audio 0')
      );
      expect(closed.status).toBe(488);
      expect(direction(resume.bodyText)).toEqual(['a=sendrecv']);

      const withVideo = await caller.reinvite(
        ROOM_URI,
        true,
        (sdp) =>
          sdp.replace(/a=group:BUNDLE (\S+)/, 'a=group:BUNDLE $1 v1') +
          'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v1\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n'
      );
      expect(withVideo.status).toBe(200);
      expect(withVideo.bodyText).toMatch(/^m=audio [1-9]\d* /m);
      expect(withVideo.bodyText).toMatch(
        /^m=video 0 UDP\/TLS\/RTP\/SAVPF 96\r\nc=IN IP4 0\.0\.0\.0\r\na=mid:v1\r\n/m
      );

      await sleep(500);
      expect(channel.state).toBe(State.ANSWERED);
      expect(caller.sipClient.received.some((m) => 'method' in m && m.method === 'BYE')).toBe(false);
      caller.clearReceived();
      await waitFor(() => caller.received().pcm.length > 0);
    } finally {
      await caller.close();
    }
  });
});
