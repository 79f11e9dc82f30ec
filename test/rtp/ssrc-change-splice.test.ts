/**
 * A caller's media switching to another SSRC mid-word (a phone's transfer, a trunk's media
 * switch), heard. A 437 Hz tone and a vowel-like sound in PCMU come over loopback to an
 * RtpSession from one SSRC, then, on the same timeline, from another; each frame is played as
 * MediaLeg.beforeMix plays it (readFrame → setInput → processRoom) on a virtual clock. The new
 * source fills the jitter buffer up to its delay before it plays: that gap must be concealed and
 * joined as a stretch is (no sample-to-sample step above the signal's own, no silent frame), not
 * cut to zero and back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tone437 as tone, voiced } from '../support/test-signals.js';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { FRAME_LOST } from '../../engine/rtp/rtp-session.js';
import { virtualClockSession } from '../support/virtual-clock-session.js';
import { createKernels, INPUT_LOST, INPUT_SILENT } from '../../engine/dsp/kernels.js';
import { ulawCompress } from '../../engine/dsp/reference/g711.js';
import { largestStep } from '../support/tone-analysis.js';

const HOST = '127.0.3.202';
const N = 160;
const FRAMES = 150;
/** The frame the new SSRC's packets start at. */
const SWITCH = 75;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe.each(['wasm', 'js'] as const)('an SSRC change mid-word, through the %s core', (kind) => {
  it.each([
    ['437 Hz tone', tone],
    ['voiced sound', voiced]
  ])(
    'in a %s is concealed and joined without a step above the signal, never cut to silence',
    async (name, signal) => {
      const { session, clock, send } = await virtualClockSession(
        HOST,
        { minPort: 33970, maxPort: 33989 },
        cleanups,
        { samplesPerFrame: N }
      );
      const kernels = await createKernels(kind);
      cleanups.push(() => kernels.close());
      const room = kernels.createRoom(8000);
      const party = kernels.createParty('PCMU');
      kernels.addParty(room, party);

      const pcm = new Int16Array(FRAMES * N);
      let silentAfterStart = 0;
      let concealed = 0;
      let started = false;
      for (let k = 0; k < FRAMES; k++) {
        // Frame k leaves the phone at 20k ms and arrives 5 ms later; the switch keeps the timeline.
        const packet = Buffer.alloc(12 + N);
        const before = k < SWITCH;
        writeRtpHeader(packet, {
          marker: k === 0,
          payloadType: 0,
          sequenceNumber: before ? 1000 + k : 40_000 + k,
          timestamp: (before ? 0 : 0x1234_5678) + k * N,
          ssrc: before ? 0xaaaa : 0xbbbb
        });
        for (let j = 0; j < N; j++) packet[12 + j] = ulawCompress(signal(k * N + j));
        clock.ms = 20 * k + 5;
        await send(packet);

        const nowMs = 20 * k + 10;
        clock.ms = nowMs;
        const payload = kernels.inputPayload(party);
        const n = session.readFrame(payload, nowMs);
        if (n > 0) started = true;
        else if (started && n === FRAME_LOST) concealed++;
        else if (started) silentAfterStart++;
        kernels.setInput(
          party,
          n === FRAME_LOST ? INPUT_LOST : n === 0 ? INPUT_SILENT : n,
          session.frameFollowsSkip
        );
        kernels.processRoom(room);
        pcm.set(kernels.decodedInput(party), k * N);
      }
      kernels.destroyRoom(room);
      kernels.destroyParty(party);

      // The tone moves at most 8000·2π·437/8000 ≈ 2,750 per sample; a cut to zero steps up to 8,000.
      const clean = largestStep(pcm, 20 * N, (SWITCH - 5) * N);
      const around = largestStep(pcm, (SWITCH - 2) * N, (SWITCH + 10) * N);
      console.log(
        `${kind}, ${name}: largest step ${clean} before the switch, ${around} around it; ${concealed} frames concealed, ${silentAfterStart} silent`
      );
      expect(silentAfterStart).toBe(0);
      expect(concealed).toBeGreaterThan(0);
      expect(around).toBeLessThan(1.25 * clean);
    }
  );
});
