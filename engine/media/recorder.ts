/**
 * Records what a channel's caller says (its decoded, concealed input at the channel's rate) into
 * a mono 16-bit WAV file. Frames are copied into fixed 10 s chunks so the per-frame path only
 * copies samples; the file is written once, when recording stops.
 */
import wavefile from 'wavefile';
import { writeNoFollow } from './file-folders.js';

const CHUNK_SECONDS = 10;

export interface RecorderOptions {
  path: string;
  sampleRateHz: number;
  /** Stop by itself after this many seconds. */
  maxSeconds?: number;
}

export class Recorder {
  readonly path: string;
  readonly sampleRateHz: number;
  private readonly maxSamples: number;
  private readonly chunks: Int16Array[] = [];
  private fill = 0;
  private total = 0;

  constructor(options: RecorderOptions) {
    this.path = options.path;
    this.sampleRateHz = options.sampleRateHz;
    this.maxSamples =
      options.maxSeconds === undefined
        ? Number.POSITIVE_INFINITY
        : Math.round(options.maxSeconds * options.sampleRateHz);
  }

  get full(): boolean {
    return this.total >= this.maxSamples;
  }

  /** Appends one frame; returns false once the maximum length is reached. */
  pushFrame(pcm: Int16Array): boolean {
    let offset = 0;
    while (offset < pcm.length && this.total < this.maxSamples) {
      let chunk = this.chunks[this.chunks.length - 1];
      if (!chunk || this.fill === chunk.length) {
        chunk = new Int16Array(this.sampleRateHz * CHUNK_SECONDS);
        this.chunks.push(chunk);
        this.fill = 0;
      }
      const n = Math.min(pcm.length - offset, chunk.length - this.fill, this.maxSamples - this.total);
      chunk.set(pcm.subarray(offset, offset + n), this.fill);
      this.fill += n;
      this.total += n;
      offset += n;
    }
    return !this.full;
  }

  /** The samples recorded so far, as one array. */
  samples(): Int16Array {
    const out = new Int16Array(this.total);
    let at = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, this.total - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
    }
    return out;
  }

  async save(): Promise<void> {
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, this.sampleRateHz, '16', this.samples());
    await writeNoFollow(this.path, wav.toBuffer());
  }
}
