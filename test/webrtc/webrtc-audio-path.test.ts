/**
 * The PCM seam between RTCAudioSink/RTCAudioSource and the DSP core's L16 16 kHz party: rates,
 * byte order, buffering, starvation, and no allocation per frame.
 */
import { describe, expect, it } from 'vitest';
import { Decimator48to16 } from '../../engine/webrtc/decimator.js';
import { WebRtcAudioPath, type PcmSource } from '../../engine/webrtc/webrtc-audio-path.js';
import { toneLevelDb } from '../support/tone-analysis.js';

function sine(
  freqHz: number,
  rateHz: number,
  samples: number,
  amplitude = 8000,
  channels = 1,
  startSample = 0
): Int16Array {
  const out = new Int16Array(samples * channels);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * (startSample + i)) / rateHz));
    for (let c = 0; c < channels; c++) out[i * channels + c] = c === 0 ? v : 0;
  }
  return out;
}

function l16ToPcm(bytes: Uint8Array, samples: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return out;
}

describe('Decimator48to16', () => {
  it('keeps a 1 kHz tone at its level and removes a 12 kHz tone (which would alias to 4 kHz)', () => {
    const d = new Decimator48to16();
    const input = sine(1000, 48000, 48000);
    const out = new Int16Array(16000);
    expect(d.process(input, 0, 48000, 1, out, 0)).toBe(16000);
    const pass = out.subarray(1600);
    expect(toneLevelDb(pass, 1000, 16000)).toBeCloseTo(toneLevelDb(input, 1000, 48000), 0);

    const alias = new Decimator48to16();
    const high = sine(12000, 48000, 48000);
    const outHigh = new Int16Array(16000);
    alias.process(high, 0, 48000, 1, outHigh, 0);
    expect(toneLevelDb(outHigh.subarray(1600), 4000, 16000)).toBeLessThan(
      toneLevelDb(high, 12000, 48000) - 50
    );
  });
});

describe('WebRtcAudioPath', () => {
  it('turns 10 ms sink frames at 16 kHz and then 48 kHz stereo into 20 ms network-order L16 frames at 16 kHz', () => {
    const path = new WebRtcAudioPath(undefined);
    const target = new Uint8Array(640);
    expect(path.readFrame(target)).toBe(0); // nothing yet: silence, not loss
    const frames: Int16Array[] = [];
    const results: number[] = [];
    let sample16 = 0;
    for (let tick = 0; tick < 25; tick++) {
      for (let half = 0; half < 2; half++, sample16 += 160) {
        if (tick < 5) path.push({ samples: sine(440, 16000, 160, 8000, 1, sample16), sampleRate: 16000 });
        else
          path.push({
            samples: sine(440, 48000, 480, 8000, 2, sample16 * 3),
            sampleRate: 48000,
            channelCount: 2,
            numberOfFrames: 480
          });
      }
      const n = path.readFrame(target);
      results.push(n);
      if (n > 0) frames.push(l16ToPcm(target, 320));
    }
    expect(results[0]).toBe(0); // 20 ms buffered: still filling
    expect(results.slice(1).every((n) => n === 640)).toBe(true);
    expect(path.readFrame(target)).toBe(640); // the 20 ms held back
    expect(path.readFrame(target)).toBe(-1); // starved after playing: conceal
    const all = new Int16Array(frames.length * 320);
    frames.forEach((f, i) => all.set(f, i * 320));
    expect(toneLevelDb(all, 440, 16000)).toBeGreaterThan(
      toneLevelDb(sine(440, 16000, 8000), 440, 16000) - 1.5
    );
  });

  it('sends each 20 ms L16 frame as two 10 ms onData calls at 16 kHz, reusing its buffers', () => {
    const calls: Array<{
      copy: Int16Array;
      samples: Int16Array;
      sampleRate: number;
      numberOfFrames: number;
    }> = [];
    const source: PcmSource = {
      onData: (d) =>
        calls.push({
          copy: Int16Array.from(d.samples),
          samples: d.samples,
          sampleRate: d.sampleRate,
          numberOfFrames: d.numberOfFrames
        })
    };
    const path = new WebRtcAudioPath(source);
    const packet = new Uint8Array(12 + 640);
    const pcm = sine(1000, 16000, 320, 20000);
    for (let i = 0; i < 320; i++) {
      packet[12 + 2 * i] = (pcm[i] >> 8) & 0xff;
      packet[12 + 2 * i + 1] = pcm[i] & 0xff;
    }
    path.sendFrame(packet as Buffer, 640);
    path.sendFrame(packet as Buffer, 640);
    expect(calls.map((c) => [c.sampleRate, c.numberOfFrames])).toEqual([
      [16000, 160],
      [16000, 160],
      [16000, 160],
      [16000, 160]
    ]);
    expect(Array.from(calls[0].copy)).toEqual(Array.from(pcm.subarray(0, 160)));
    expect(Array.from(calls[1].copy)).toEqual(Array.from(pcm.subarray(160)));
    expect(calls[2].samples).toBe(calls[0].samples);
    path.sendFrame(packet as Buffer, 160); // not an L16 frame: ignored
    expect(calls.length).toBe(4);
  });

  it('drops the oldest audio rather than growing when the sink runs ahead of the frame clock', () => {
    const path = new WebRtcAudioPath(undefined);
    for (let i = 0; i < 1000; i++)
      path.push({ samples: sine(440, 16000, 160, 8000, 1, i * 160), sampleRate: 16000 });
    let frames = 0;
    const target = new Uint8Array(640);
    while (path.readFrame(target) > 0) frames++;
    expect(frames).toBe(16); // the ring's 320 ms
    path.push({ samples: new Int16Array(441), sampleRate: 44100 });
    expect(path.unsupportedFrames).toBe(1);
  });
});
