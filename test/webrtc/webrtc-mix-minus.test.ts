/**
 * Ten browsers (the test's own @roamhq/wrtc peer connections over SIP on WebSockets) and ten
 * phones (SIP/RTP, PCMU) in one room, each sending its own tone: everyone hears the nineteen
 * others and not itself. Twenty peer connections (ten here, ten in the engine) and twenty RTP
 * streams share this host with the rest of the suite, so the windows are generous.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Engine,
  State,
  ConferencePartyMediaSettings,
  ConferenceLifetimeControl
} from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';
import { sleep, waitFor } from '../support/wait.js';

const PER_KIND = 10;
/** 20 tones 150 Hz apart inside the telephone band; the first ten go to the browsers. */
const TONES = Array.from({ length: 2 * PER_KIND }, (_, i) => 450 + 150 * i);
const AMPLITUDE = 1200;
const HEARD_DB = -45;
/**
 * Each tone arrives at about -29 dB; a party that heard itself would measure about that at its
 * own frequency. Nineteen tones on a 150 Hz grid through Opus at its default rate leave coding
 * noise on the grid at -43 to -55 dB, so the browsers ask for 128 kbit/s (RFC 7587 §6.1
 * maxaveragebitrate), which puts it near -60 dB.
 */
const ABSENT_DB = -50;

let engine: Engine;
const transferred = new Set<string>();
const callers: WebRtcCaller[] = [];
const phones: TonePhone[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 34000, maxPort: 34999 }
  });
  engine.on('call', async (channel) => {
    await channel.answer();
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    const state = await channel.transferToConferenceRoom(engine.createChannel(), 'big', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
      secondsTimeout: 30
    });
    if (state === State.TRANSFERRED) transferred.add(user);
  });
  await engine.start();
});

afterAll(async () => {
  await Promise.all(callers.map((c) => c.close()));
  await Promise.all(phones.map((p) => p.close()));
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

/**
 * The last `seconds` of a capture under a Hann window (scaled by 2 for its coherent gain): with
 * nineteen tones 150 Hz apart a rectangular window's side lobes alone reach -50 dB.
 */
function lastSeconds(pcm: Int16Array, rateHz: number, seconds: number): Int16Array {
  const tail = pcm.subarray(Math.max(0, pcm.length - rateHz * seconds));
  const out = new Int16Array(tail.length);
  for (let i = 0; i < tail.length; i++)
    out[i] = Math.round(tail[i] * (1 - Math.cos((2 * Math.PI * i) / (tail.length - 1))));
  return out;
}

/** How many 20 ms blocks of `pcm` are over 20 dB below its median block: gaps the receiver concealed or filled. */
function quietBlocks(pcm: Int16Array, rateHz: number): number {
  const block = rateHz / 50;
  const levels: number[] = [];
  for (let at = 0; at + block <= pcm.length; at += block) {
    let energy = 0;
    for (let i = at; i < at + block; i++) energy += pcm[i] * pcm[i];
    levels.push(energy / block);
  }
  const median = [...levels].sort((a, b) => a - b)[levels.length >> 1] ?? 0;
  return levels.filter((l) => l < median / 100).length;
}

describe('ten browsers and ten phones in one room', () => {
  it('everyone hears the mix-minus: the nineteen others, not itself', async () => {
    const sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
    const wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
    for (let i = 0; i < PER_KIND; i++) {
      const caller = new WebRtcCaller({ toneHz: TONES[i], amplitude: AMPLITUDE, user: `web${i}` });
      callers.push(caller);
      const askForHighRate = (sdp: string): string =>
        sdp.replace(/(a=fmtp:111 [^\r\n]*)/, '$1;maxaveragebitrate=128000');
      expect((await caller.call(wsUrl, 'sip:big@127.0.0.1', askForHighRate)).status).toBe(200);
      const phone = await TonePhone.create({
        toneHz: TONES[PER_KIND + i],
        amplitude: AMPLITUDE,
        user: `tel${i}`
      });
      phones.push(phone);
      await phone.call(`sip:big@127.0.0.1:${sipPort}`);
    }
    await waitFor(() => transferred.size === 2 * PER_KIND, 30_000);
    expect(engine.rooms.get('big')?.parties.length).toBe(2 * PER_KIND);
    await waitFor(() => callers.every((c) => c.pc.connectionState === 'connected'), 20_000);
    await sleep(1000);
    callers.forEach((c) => c.clearReceived());
    phones.forEach((p) => p.clearReceived());
    // How the host treated this process during the capture, for reading a failure: the engine's
    // frame clock and the event loop all twenty peers' JavaScript shares.
    engine.clock.resetStats();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    await sleep(2500);
    loopDelay.disable();
    const clock = engine.clockStats();

    const failures: string[] = [];
    let loudestOwn = -200;
    let quietestOther = 0;
    const check = (who: string, own: number, pcm: Int16Array, rateHz: number): void => {
      const window = lastSeconds(pcm, rateHz, 2);
      TONES.forEach((hz, j) => {
        const db = toneLevelDb(window, hz, rateHz);
        if (j === own) loudestOwn = Math.max(loudestOwn, db);
        else quietestOther = Math.min(quietestOther, db);
        if (j === own && db > ABSENT_DB)
          failures.push(`${who} hears its own ${hz} Hz at ${db.toFixed(1)} dB`);
        if (j !== own && db < HEARD_DB) failures.push(`${who} misses ${hz} Hz (${db.toFixed(1)} dB)`);
      });
    };
    const capturedMs: string[] = [];
    callers.forEach((c, i) => {
      const { pcm, rateHz } = c.received();
      capturedMs.push(
        `web${i} ${Math.round((1000 * pcm.length) / rateHz)} ms at ${rateHz} Hz (${quietBlocks(pcm, rateHz)} quiet 20 ms blocks)`
      );
      check(`web${i}`, i, pcm, rateHz);
    });
    phones.forEach((p, i) => check(`tel${i}`, PER_KIND + i, p.receivedPcm(), 8000));
    const host =
      `frame clock in the 2.5 s capture: ${clock.ticks} ticks, ${clock.lateTicks} late, ` +
      `${clock.skippedTicks} skipped, max ${clock.latenessMsMax.toFixed(1)} ms late; ` +
      `event loop delay max ${(loopDelay.max / 1e6).toFixed(1)} ms; browsers captured ${capturedMs.join(', ')}`;
    console.log(
      `quietest tone heard from another party ${quietestOther.toFixed(1)} dB; loudest own frequency ${loudestOwn.toFixed(1)} dB; ${host}`
    );
    expect(failures.length === 0 ? [] : [...failures, host]).toEqual([]);
  });
});
