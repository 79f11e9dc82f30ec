/**
 * The PCM seam between a browser's peer connection and the DSP core. The party slot runs as
 * L16 at 16 kHz (the core resamples to and from the room's rate, as for a wideband phone):
 * - in: `RTCAudioSink` hands 10 ms frames at 16 kHz (first) or 48 kHz (once Opus runs at its
 *   native rate), possibly stereo; they are brought to 16 kHz mono into a ring, and each
 *   20 ms tick takes 320 samples out as network-order L16, like a jitter buffer's frame.
 * - out: the core's L16 frame goes to `RTCAudioSource.onData` as two 10 ms calls (the only
 *   size it takes).
 * All buffers are made once; nothing is allocated per frame.
 */
import { Decimator48to16 } from './decimator.js';

/** What @roamhq/wrtc's RTCAudioSink hands over (nonstandard API). */
export interface SinkAudioData {
  samples: Int16Array;
  sampleRate: number;
  channelCount?: number;
  numberOfFrames?: number;
}

/** The part of @roamhq/wrtc's RTCAudioSource this uses. */
export interface PcmSource {
  onData(data: {
    samples: Int16Array;
    sampleRate: number;
    bitsPerSample: number;
    channelCount: number;
    numberOfFrames: number;
  }): void;
}

export const PATH_RATE_HZ = 16000;
const FRAME_SAMPLES = 320;
const HALF_FRAME = 160;
/** Buffered input beyond this (sink and frame clock drifting apart) drops the oldest audio. */
const RING_SAMPLES = 16 * FRAME_SAMPLES;
/** Input starts playing once this much is buffered: room for the sink's 10 ms rhythm against our 20 ms. */
const START_SAMPLES = 2 * FRAME_SAMPLES;
/** `readFrame` results, as the RTP session's: conceal this frame / nothing expected. */
const FRAME_LOST = -1;
const FRAME_SILENT = 0;

export class WebRtcAudioPath {
  private readonly ring = new Int16Array(RING_SAMPLES);
  private readPos = 0;
  private buffered = 0;
  private playing = false;
  private readonly scratch = new Int16Array(960);
  private readonly decimator = new Decimator48to16();
  private readonly outA = new Int16Array(HALF_FRAME);
  private readonly outB = new Int16Array(HALF_FRAME);
  private readonly dataA = {
    samples: this.outA,
    sampleRate: PATH_RATE_HZ,
    bitsPerSample: 16,
    channelCount: 1,
    numberOfFrames: HALF_FRAME
  };
  private readonly dataB = {
    samples: this.outB,
    sampleRate: PATH_RATE_HZ,
    bitsPerSample: 16,
    channelCount: 1,
    numberOfFrames: HALF_FRAME
  };
  private closed = false;
  /** Frames from the sink at a rate we do not convert (counted, dropped). */
  unsupportedFrames = 0;
  framesIn = 0;
  framesOut = 0;
  underruns = 0;

  constructor(private readonly source: PcmSource | undefined) {}

  /** The sink's `ondata`: one 10 ms frame from the browser. */
  push(data: SinkAudioData): void {
    if (this.closed) return;
    const channels = data.channelCount ?? 1;
    const frames = data.numberOfFrames ?? data.samples.length / channels;
    if (data.sampleRate === PATH_RATE_HZ) {
      for (let i = 0; i < frames; i++) this.write(data.samples[i * channels]);
    } else if (data.sampleRate === 48000) {
      const n = this.decimator.process(data.samples, 0, frames, channels, this.scratch, 0);
      for (let i = 0; i < n; i++) this.write(this.scratch[i]);
    } else {
      this.unsupportedFrames++;
    }
  }

  private write(sample: number): void {
    const ring = this.ring;
    if (this.buffered === RING_SAMPLES) {
      this.readPos = this.readPos + 1 === RING_SAMPLES ? 0 : this.readPos + 1;
      this.buffered--;
    }
    let at = this.readPos + this.buffered;
    if (at >= RING_SAMPLES) at -= RING_SAMPLES;
    ring[at] = sample;
    this.buffered++;
  }

  /** The frame due now as network-order L16 into `target`: its byte length, FRAME_LOST or FRAME_SILENT. */
  readFrame(target: Uint8Array): number {
    if (!this.playing) {
      if (this.buffered < START_SAMPLES) return FRAME_SILENT;
      this.playing = true;
    }
    if (this.buffered < FRAME_SAMPLES) {
      // Starved: conceal this frame and buffer up again.
      this.playing = false;
      this.underruns++;
      return FRAME_LOST;
    }
    const ring = this.ring;
    let pos = this.readPos;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const s = ring[pos];
      target[2 * i] = (s >> 8) & 0xff;
      target[2 * i + 1] = s & 0xff;
      pos = pos + 1 === RING_SAMPLES ? 0 : pos + 1;
    }
    this.readPos = pos;
    this.buffered -= FRAME_SAMPLES;
    this.framesIn++;
    return 2 * FRAME_SAMPLES;
  }

  /** The core's encoded frame (`packet` has the 12-byte RTP header room in front) to the browser. */
  sendFrame(packet: Uint8Array, payloadBytes: number): void {
    const source = this.source;
    if (this.closed || !source || payloadBytes !== 2 * FRAME_SAMPLES) return;
    const a = this.outA;
    const b = this.outB;
    for (let i = 0; i < HALF_FRAME; i++) {
      const at = 12 + 2 * i;
      a[i] = (packet[at] << 8) | packet[at + 1];
      b[i] = (packet[at + 2 * HALF_FRAME] << 8) | packet[at + 2 * HALF_FRAME + 1];
    }
    source.onData(this.dataA);
    source.onData(this.dataB);
    this.framesOut++;
  }

  close(): void {
    this.closed = true;
  }
}
