/**
 * A G.722 talker whose jitter buffer skips packets to shrink its delay. G.722 is ADPCM: its decoder
 * adapts a predictor and step sizes on every code and tracks the sender's encoder only if it sees
 * all of them. A skipped packet the decoder never ran left it off the sender's track, and the
 * frames after decoded wrong until it adapted back: 24-31 dB SNR on the frame after a skip and
 * 30-39 dB on the next few, against 47 dB for the rest. Now the skipped payload reaches the core
 * with the next frame, which decodes it first and drops its audio.
 *
 * A -10 dBFS 1 kHz tone, encoded by the reference G.722 encoder, is sent over loopback to a media
 * leg in a 16 kHz room and played as the frame loop plays it, on a virtual clock: the route gets
 * 100 ms shorter at frame 200, so the buffer skips a frame in eight until its delay is back down.
 * Each 20 ms frame of the decoded input is measured against a sine fitted to it.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createKernels } from '../../engine/dsp/kernels.js';
import { G722_STATE, g722Encode, g722InitState } from '../../engine/dsp/reference/g722.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { MediaLeg } from '../../engine/media/media-leg.js';
import { MixLoop } from '../../engine/media/mix-loop.js';
import { MixRoom } from '../../engine/media/mix-room.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';

const HOST = '127.0.63.31';
const PHONE = '127.0.63.30';
const FRAMES = 400;
/** Frame from which the route is 100 ms shorter. */
const ROUTE_CHANGE = 200;
const BYTES = 160; // 20 ms of G.722
const N = 320; // 16 kHz samples a frame
const AMPLITUDE = Math.round(32767 * 10 ** (-10 / 20));
/** A clean frame of the tone through G.722 is at 45-49 dB; after a skip it was at 24-39. */
const MIN_SNR_DB = 40;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function arrivalMs(k: number): number {
  return 20 * k + (k < ROUTE_CHANGE ? 100 : 0);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 200_000) throw new Error('packet not received');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** SNR in dB of `x` against its least-squares fit a·sin + b·cos + c at `freqHz`. */
function sineFitSnrDb(x: Int16Array, freqHz: number, rateHz: number): number {
  const w = (2 * Math.PI * freqHz) / rateHz;
  const basis = (i: number): number[] => [Math.sin(w * i), Math.cos(w * i), 1];
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0]
  ];
  const y = [0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    const v = basis(i);
    for (let r = 0; r < 3; r++) {
      y[r] += v[r] * x[i];
      for (let c = 0; c < 3; c++) m[r][c] += v[r] * v[c];
    }
  }
  for (let c = 0; c < 3; c++)
    for (let r = c + 1; r < 3; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 3; k++) m[r][k] -= f * m[c][k];
      y[r] -= f * y[c];
    }
  const s = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let acc = y[r];
    for (let k = r + 1; k < 3; k++) acc -= m[r][k] * s[k];
    s[r] = acc / m[r][r];
  }
  let signal = 0;
  let error = 0;
  for (let i = 0; i < x.length; i++) {
    const v = basis(i);
    const fit = s[0] * v[0] + s[1] * v[1];
    signal += fit * fit;
    error += (x[i] - fit - s[2]) ** 2;
  }
  return 10 * Math.log10(signal / error);
}

interface FramePlayed {
  frame: number;
  snrDb: number;
  followsSkip: boolean;
  skippedBytes: number;
}

async function play(kind: 'wasm' | 'js'): Promise<FramePlayed[]> {
  const pool = new RtpPortPool({ host: HOST, minPort: 61400, maxPort: 61409 });
  cleanups.push(() => pool.close());
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(61420, PHONE, () => resolve()));
  cleanups.push(() => phone.close());
  const kernels = await createKernels(kind);
  cleanups.push(() => kernels.close());
  const loop = new MixLoop(new FrameClock(), (error) => {
    throw error;
  });
  cleanups.push(() => loop.close());
  const room = new MixRoom(kernels, 16000);
  cleanups.push(() => room.close());
  loop.add(room);
  let clockMs = 0;
  const leg = new MediaLeg(
    {
      kernels,
      loop,
      ports: await pool.allocate(),
      address: HOST,
      roomSampleRateHz: 16000,
      codecs: ['G722'],
      metrics: new EngineMetrics(),
      now: () => clockMs
    },
    {
      onDigit: () => undefined,
      onTalking: () => undefined,
      onRecordingFull: () => undefined,
      onMediaTimeout: () => undefined,
      onStrangerMedia: () => undefined
    }
  );
  cleanups.push(() => leg.close());
  leg.answer(
    `v=0\r\no=- 1 1 IN IP4 ${PHONE}\r\ns=-\r\nc=IN IP4 ${PHONE}\r\nt=0 0\r\n` +
      'm=audio 61420 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\na=sendrecv\r\n'
  );
  leg.moveTo(room);
  const session = leg.rtpSession;
  if (!session) throw new Error('no RTP session');
  const rtpPort = session.ports.rtpPort;

  const encoder = new Int32Array(G722_STATE.words);
  g722InitState(encoder);
  const pcm = new Int16Array(N);
  const packets: Buffer[] = [];
  for (let k = 0; k < FRAMES; k++) {
    for (let j = 0; j < N; j++)
      pcm[j] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * 1000 * (k * N + j)) / 16000));
    const packet = Buffer.alloc(12 + BYTES);
    writeRtpHeader(packet, {
      marker: false,
      payloadType: 9,
      sequenceNumber: k,
      timestamp: k * 160,
      ssrc: 0x722
    });
    g722Encode(encoder, pcm, packet.subarray(12), N);
    packets.push(packet);
  }
  const order = [...packets.keys()].sort((a, b) => arrivalMs(a) - arrivalMs(b) || a - b);

  const played: FramePlayed[] = [];
  let sent = 0;
  for (let tick = 0; tick < FRAMES; tick++) {
    const nowMs = 7 + 20 * tick;
    while (sent < order.length && arrivalMs(order[sent]) <= nowMs) {
      const k = order[sent++];
      clockMs = arrivalMs(k);
      phone.send(packets[k], rtpPort, HOST);
      await until(() => session.packetsReceived === sent);
    }
    clockMs = nowMs;
    loop.tick();
    if (session.stats().packetsReceived === 0) continue;
    const decoded = kernels.decodedInput(leg.partySlot);
    if (decoded.every((x) => x === 0)) continue; // not started yet
    played.push({
      frame: tick,
      snrDb: sineFitSnrDb(decoded, 1000, 16000),
      followsSkip: session.frameFollowsSkip,
      skippedBytes: session.frameSkippedBytes
    });
  }
  return played;
}

describe.each(['wasm', 'js'] as const)('a G.722 talker through the %s core', (kind) => {
  it('decodes the frames after a jitter-buffer skip as cleanly as the others: the skipped packet still runs through its decoder', async () => {
    const played = await play(kind);
    const skips = played.filter((p) => p.followsSkip).map((p) => p.frame);
    expect(skips.length).toBeGreaterThanOrEqual(3);
    expect(skips.every((frame) => frame >= ROUTE_CHANGE)).toBe(true);
    // The frame after each skip and the three after it.
    const around = played.filter((p) => skips.some((frame) => p.frame >= frame && p.frame <= frame + 3));
    const worst = around.reduce((a, b) => (b.snrDb < a.snrDb ? b : a));
    const clean = played.filter((p) => p.frame > 50 && p.frame < ROUTE_CHANGE);
    const cleanWorst = Math.min(...clean.map((p) => p.snrDb));
    console.log(
      `${kind}: ${skips.length} skips; SNR after a skip ${around
        .filter((p) => p.followsSkip)
        .map((p) => p.snrDb.toFixed(1))
        .join(', ')} dB; worst of the 4 frames from each skip ${worst.snrDb.toFixed(1)} dB ` +
        `(frame ${worst.frame}); worst clean frame ${cleanWorst.toFixed(1)} dB`
    );
    expect(cleanWorst).toBeGreaterThan(MIN_SNR_DB);
    expect(worst.snrDb, `frame ${worst.frame}`).toBeGreaterThan(MIN_SNR_DB);
    // Each skipped packet, whole, came with the frame after it.
    expect(played.filter((p) => p.followsSkip).every((p) => p.skippedBytes === BYTES)).toBe(true);
  }, 60_000);
});
