/**
 * Spoken caller names: what a display name may make the room hear. Unit checks of the cleaning,
 * then a caller with a 2,000-character display name (markup and control characters included)
 * joins a meet-me room over real SIP and RTP, and the party already there hears a short
 * announcement, measured in received audio frames, not wall-clock time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe } from '../../engine/app/meet-me.js';
import { spokenName, SPOKEN_NAME_MAX_CHARS } from '../../engine/app/spoken-name.js';
import { TonePhone } from '../support/tone-phone.js';
import { rmsDbfs } from '../support/tone-analysis.js';
import { waitFor } from '../support/wait.js';

describe('spokenName', () => {
  it('keeps an ordinary name as it is', () => {
    expect(spokenName('George Smith')).toBe('George Smith');
    expect(spokenName("Zoë O'Brien-Łukasz")).toBe("Zoë O'Brien-Łukasz");
    expect(spokenName('李小龍')).toBe('李小龍');
  });

  it('drops control characters, bidi overrides, zero-width characters and markup', () => {
    expect(spokenName('Geo\u0000rge\r\n\u0007Smith')).toBe('Geo rge Smith');
    expect(spokenName('\u202eevil\u202c \u200bname')).toBe('evil name');
    expect(spokenName('<speak><prosody rate="x-slow">Bob</prosody></speak>')).toBe('Bob');
    expect(spokenName('Tom &amp; Jerry; {x} [y] `z` \\w')).toBe('Tom Jerry x y z w');
  });

  it(`cuts a long name to at most ${SPOKEN_NAME_MAX_CHARS} characters, at a word boundary`, () => {
    const long = spokenName('George '.repeat(300))!;
    expect(long).toBe('George George George George');
    expect(Array.from(spokenName('x'.repeat(2000))!)).toHaveLength(SPOKEN_NAME_MAX_CHARS);
    expect(Array.from(spokenName('é'.repeat(100))!).length).toBeLessThanOrEqual(SPOKEN_NAME_MAX_CHARS);
  });

  it('returns undefined when nothing speakable is left', () => {
    expect(spokenName(undefined)).toBeUndefined();
    expect(spokenName('')).toBeUndefined();
    expect(spokenName(' \u0000\u0001 <b></b> ... --- ')).toBeUndefined();
  });

  it('takes linear time on hostile input', () => {
    const hostile = '<'.repeat(50_000) + '&#'.repeat(50_000);
    const started = performance.now();
    spokenName(hostile);
    // Generous: the input is cut to 256 characters before any pattern sees it.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('the meet-me room hears a short name', () => {
  let engine: Engine;
  let port: number;
  const phones: TonePhone[] = [];
  const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

  beforeAll(async () => {
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 99 },
      inviteFilter: meetMeInviteFilter,
      overloadGuard: false
    });
    serveMeetMe(engine);
    await engine.start();
    port = engine.sipAddresses()[0].port;
  });

  afterAll(async () => {
    await Promise.all(phones.map((p) => p.close()));
    await engine?.stop();
  });

  /** 20 ms frames of `pcm` louder than -45 dBFS. */
  function loudFrames(pcm: Int16Array): number[] {
    const loud: number[] = [];
    for (let i = 0; i + 160 <= pcm.length; i += 160)
      if (rmsDbfs(pcm.subarray(i, i + 160)) > -45) loud.push(i / 160);
    return loud;
  }

  it('announces a caller with a 2,000-character display name in a few seconds, not minutes', async () => {
    const alice = await TonePhone.create({ toneHz: null, user: 'alice', displayName: 'alice' });
    phones.push(alice);
    await alice.call(`sip:names1@127.0.0.1:${port}`);
    await waitFor(() => engine.rooms.get('names1')?.size === 1, 30000);
    const hostileName = `George\u0007 <b>` + 'George '.repeat(290) + '\r\n';
    expect(hostileName.length).toBeGreaterThan(2000);
    // A display name cannot carry CR/LF through SIP; the bell character it can.
    const bob = await TonePhone.create({
      toneHz: null,
      user: 'bob',
      displayName: hostileName.replace(/\r\n/g, '')
    });
    phones.push(bob);
    await bob.call(`sip:names1@127.0.0.1:${port}`);
    await waitFor(() => engine.rooms.get('names1')?.size === 2, 30000);
    alice.clearReceived();
    // Wait until the announcement has started and then been followed by 2 s of quiet.
    await waitFor(() => {
      const loud = loudFrames(alice.receivedPcm());
      const frames = Math.floor(alice.receivedPcm().length / 160);
      return loud.length > 0 && frames - loud[loud.length - 1] > 100;
    }, 60000);
    const loud = loudFrames(alice.receivedPcm());
    const spokenMs = (loud[loud.length - 1] - loud[0] + 1) * 20;
    // Beep, "George George George George", "has joined": a few seconds. The uncut name took 87 s.
    expect(spokenMs).toBeGreaterThan(500);
    expect(spokenMs).toBeLessThan(10_000);
  }, 90_000);
});
