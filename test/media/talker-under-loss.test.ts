/**
 * Talker events of a party whose packets are lost now and then: concealment, which fades to
 * silence, is not the party's quiet, so it must not pull the talker detector's noise floor down.
 * Before, a steady voice-band sound that had become the floor looked like a new talker after every
 * burst of loss (80 ms here): a `started` event, and spectral checks, each time (5 in 40 s here).
 * Real quiet, the caller's own silence, still moves the floor, and is the control.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKernels, type DspKernels } from '../../engine/dsp/kernels.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { MixLoop } from '../../engine/media/mix-loop.js';
import { MixRoom } from '../../engine/media/mix-room.js';
import { pcmuLeg } from '../support/pcmu-leg.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { countingPorts } from '../support/counting-rtp-ports.js';
import { sine } from '../support/dsp-prng.js';
import { g711EncodeFrame } from '../../engine/dsp/reference/g711.js';

const FRAMES = 2000; // 40 s
/** Past the time the tone takes to become the floor and stop the talkspurt (about 5 s). */
const GAP_EVERY = 400;
const GAP_FRAMES = 4;

describe('a party with bursts of packet loss', () => {
  let kernels: DspKernels | undefined;
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0).reverse()) close();
    kernels?.close();
    kernels = undefined;
  });

  /** Plays a steady 440 Hz tone (about -15 dBFS) to a leg; each gap is lost, or sent as silence. */
  async function startedEvents(gaps: 'lost' | 'silence'): Promise<number> {
    kernels = await createKernels('wasm');
    let nowMs = 1000.5;
    const loop = new MixLoop(new FrameClock(), (error) => {
      throw error;
    });
    const room = new MixRoom(kernels, 8000);
    loop.add(room);
    const ports = countingPorts(40000);
    let started = 0;
    const leg = pcmuLeg(
      { kernels, loop, ports, metrics: new EngineMetrics(), now: () => nowMs },
      {
        onTalking: (talking) => {
          if (talking) started++;
        }
      }
    );
    closers.push(
      () => loop.close(),
      () => room.close(),
      () => leg.close()
    );
    leg.answer(
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
        'm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n'
    );
    leg.moveTo(room);
    const packet = Buffer.alloc(172);
    packet[0] = 0x80;
    packet.writeUInt32BE(0x1234, 8);
    const rinfo = { address: '127.0.0.1', family: 'IPv4' as const, port: 20000, size: 172 };
    for (let frame = 0; frame < FRAMES; frame++) {
      const inGap = frame > 0 && frame % GAP_EVERY < GAP_FRAMES;
      if (!inGap || gaps === 'silence') {
        packet.writeUInt16BE(frame, 2);
        packet.writeUInt32BE(frame * 160, 4);
        const payload = packet.subarray(12);
        if (inGap) payload.fill(0xff);
        else g711EncodeFrame('PCMU', sine(160, 440, 8000, 6000, frame * 160), payload, 160);
        ports.rtpSocket.emit('message', packet, rinfo);
      }
      loop.tick();
      await Promise.resolve(); // talker events are reported after the frame
      nowMs += 20;
    }
    expect(leg.rtpSession?.stats().concealedFrames ?? 0).toBeGreaterThanOrEqual(
      gaps === 'lost' ? GAP_FRAMES * (FRAMES / GAP_EVERY - 1) : 0
    );
    return started;
  }

  it('starts talking once, not again after every burst', async () => {
    expect(await startedEvents('lost')).toBe(1);
  });

  it('(control) does start again after each burst of real silence, which pulls the floor down', async () => {
    expect(await startedEvents('silence')).toBe(FRAMES / GAP_EVERY);
  });
});
