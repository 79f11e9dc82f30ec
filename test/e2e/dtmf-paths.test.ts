/**
 * DTMF end to end over RTP and SIP: in-band tones (the WebAssembly Goertzel detector), RFC 4733
 * events and SIP INFO all reach the application as one digit stream; a press sent two ways at once
 * counts once; switching ways mid-call misses nothing; a conference party's DTMF tone does not
 * leak into what the others hear.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] }, rtp: { minPort: 37000, maxPort: 37999 } });
  engine.on('call', async (channel) => {
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    await channel.answer();
    if (channel.requestUri?.startsWith('sip:conf')) {
      await channel.transferToConferenceRoom(engine.createChannel(), 'dtmfconf', {
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
      });
    }
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

async function answered(user: string, toneHz: number | null = null): Promise<{ phone: TonePhone; channel: UASCallChannel }> {
  const phone = await TonePhone.create({ toneHz, user });
  await phone.call(`sip:digits@127.0.0.1:${port}`);
  await waitFor(() => channels.get(user)?.state === State.ANSWERED);
  await sleep(200);
  return { phone, channel: channels.get(user)! };
}

/**
 * What the media leg of `phone`'s call reports to the digit merger, before merging. A peek at
 * engine internals (the mix loop's rooms, the leg's `events`), for this test only: it shows that
 * a press sent both ways really was seen both ways, so "counted once" is the merger's doing.
 */
function rawObservations(phone: TonePhone): string[] {
  type Leg = { rtpSession?: { stats(): { remotePort?: number } }; events: { onDigit(o: { source: string; digit: string }): void } };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rooms = (engine as any).loop.rooms as Array<{ members: Leg[] }>;
  const leg = rooms.flatMap((r) => r.members).find((m) => m.rtpSession?.stats().remotePort === phone.rtpPort);
  if (!leg) throw new Error('no media leg for this phone');
  const seen: string[] = [];
  const forward = leg.events.onDigit;
  leg.events.onDigit = (o) => {
    seen.push(`${o.source}:${o.digit}`);
    forward(o);
  };
  return seen;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function record(channel: UASCallChannel): Array<{ digit: string; source: string }> {
  const seen: Array<{ digit: string; source: string }> = [];
  channel.on('dtmf', (d) => seen.push(d));
  return seen;
}

describe('DTMF paths', () => {
  it('detects in-band digits, exactly once each', async () => {
    const { phone, channel } = await answered('inband1');
    try {
      const seen = record(channel);
      const digits = channel.getDigits({ count: 4, secondsTimeout: 5 });
      for (const d of '123#') {
        await phone.inbandDigit(d, 100);
        await sleep(100);
      }
      expect(await digits).toBe('123#');
      expect(seen.map((s) => s.source)).toEqual(['inband', 'inband', 'inband', 'inband']);
    } finally {
      await phone.close();
    }
  });

  it('detects RFC 4733 events alone, exactly once each', async () => {
    const { phone, channel } = await answered('event1');
    try {
      const seen = record(channel);
      const digits = channel.getDigits({ count: 4, secondsTimeout: 5 });
      for (const d of '9*0#') {
        await phone.rfc4733Digit(d, 100);
        await sleep(60);
      }
      expect(await digits).toBe('9*0#');
      await sleep(200); // nothing more arrives late (the three end packets are one press)
      expect(seen).toEqual([...'9*0#'].map((digit) => ({ digit, source: 'rfc4733' })));
    } finally {
      await phone.close();
    }
  });

  it('takes SIP INFO digits alone', async () => {
    const { phone, channel } = await answered('info1');
    try {
      const seen = record(channel);
      const digits = channel.getDigits({ count: 3, secondsTimeout: 5 });
      for (const d of '7A#') expect(await phone.infoDigit(d)).toBe(200);
      expect(await digits).toBe('7A#');
      expect(seen.map((s) => s.source)).toEqual(['info', 'info', 'info']);
    } finally {
      await phone.close();
    }
  });

  it('counts a press sent in-band and as RFC 4733 at once only once, and "55" sent so as two', async () => {
    const { phone, channel } = await answered('both1');
    try {
      const seen = record(channel);
      const raw = rawObservations(phone);
      await phone.bothWaysDigit('5', 120);
      await sleep(400);
      expect([...raw].sort()).toEqual(['inband:5', 'rfc4733:5']);
      expect(seen.map((s) => s.digit)).toEqual(['5']);
      await phone.bothWaysDigit('6', 120);
      await sleep(100);
      await phone.bothWaysDigit('6', 120);
      await sleep(400);
      console.log(`pressed both ways: leg saw ${raw.join(' ')}; channel reported ${seen.map((d) => `${d.source}:${d.digit}`).join(' ')}`);
      expect([...raw].sort()).toEqual(['inband:5', 'inband:6', 'inband:6', 'rfc4733:5', 'rfc4733:6', 'rfc4733:6']);
      expect(seen.map((s) => s.digit)).toEqual(['5', '6', '6']);
    } finally {
      await phone.close();
    }
  });

  it('misses nothing when the phone switches between in-band, RFC 4733 and SIP INFO mid-call', async () => {
    const { phone, channel } = await answered('switch1');
    try {
      const seen = record(channel);
      const digits = channel.getDigits({ count: 4, secondsTimeout: 6 });
      await phone.inbandDigit('1', 100);
      await sleep(150);
      await phone.rfc4733Digit('2', 100);
      await sleep(150);
      await phone.inbandDigit('3', 100);
      await sleep(150);
      await phone.infoDigit('4');
      expect(await digits).toBe('1234');
      expect(seen.map((d) => d.source)).toEqual(['inband', 'rfc4733', 'inband', 'info']);
    } finally {
      await phone.close();
    }
  });

  it("keeps a conference party's DTMF tone out of what the others hear", async () => {
    const presser = await TonePhone.create({ toneHz: 440, user: 'presser' });
    const listener = await TonePhone.create({ toneHz: null, user: 'listener' });
    const talker = await TonePhone.create({ toneHz: 980, user: 'talker' });
    try {
      const phones = [presser, listener, talker];
      await Promise.all(phones.map((p) => p.call(`sip:conf@127.0.0.1:${port}`)));
      await waitFor(() => ['presser', 'listener', 'talker'].every((u) => channels.get(u)?.state === State.TRANSFERRED));
      const seen = record(channels.get('presser')!);
      await sleep(500);
      listener.clearReceived();
      await sleep(300);
      const pressedMs = performance.now();
      await presser.inbandDigit('1', 600);
      await sleep(500);
      expect(seen).toEqual([{ digit: '1', source: 'inband' }]); // the detector saw the press

      // The press as the listener received it: the first frame without the presser's 440 Hz.
      const packets = listener.receivedPackets();
      const frames = packets.map(({ pcm }) => pcm);
      const level = (from: number, to: number, hz: number): number => toneLevelDb(concat(frames.slice(from, to)), hz, 8000);
      const onset = frames.findIndex((f, i) => i >= 5 && toneLevelDb(f, 440, 8000) < -40);
      expect(onset).toBeGreaterThan(5);
      // It is the press (not a hiccup): it reached the listener shortly after the key went down.
      const onsetDelayMs = packets[onset].atMs - pressedMs;
      expect(onsetDelayMs).toBeGreaterThan(0);
      expect(onsetDelayMs).toBeLessThan(400);
      // Frame-aligned windows: the 60 ms after the onset (leak expected while the detector
      // decides), the rest of the 600 ms press less a frame, and after the press.
      const during = [onset + 3, onset + 29] as const;
      const leak = { low: level(onset, onset + 3, 697), high: level(onset, onset + 3, 1209) };
      const press = { low: level(...during, 697), high: level(...during, 1209), talker: level(...during, 980) };
      const before = level(0, onset, 440);
      const after = level(onset + 33, onset + 43, 440);
      console.log(
        `listener, presser's '1' (697 / 1209 Hz, sent at -10 dBFS each): first 60 ms ${leak.low.toFixed(1)} / ${leak.high.toFixed(1)} dB, ` +
          `60-580 ms ${press.low.toFixed(1)} / ${press.high.toFixed(1)} dB; talker's 980 Hz meanwhile ${press.talker.toFixed(1)} dB; ` +
          `presser's 440 Hz before ${before.toFixed(1)} dB, after ${after.toFixed(1)} dB; onset reached the listener ${onsetDelayMs.toFixed(0)} ms after the press`
      );
      expect(frames.length).toBeGreaterThan(onset + 43); // audio kept flowing to the listener
      expect(press.low).toBeLessThan(-45);
      expect(press.high).toBeLessThan(-45);
      expect(press.talker).toBeGreaterThan(-40); // the room was not silenced, only the press
      expect(before).toBeGreaterThan(-40);
      expect(after).toBeGreaterThan(-40); // the presser is heard again once the tone ends
    } finally {
      await Promise.all([presser, listener, talker].map((p) => p.close()));
    }
  });
});
