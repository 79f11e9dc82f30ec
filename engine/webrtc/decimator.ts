/**
 * 48 kHz → 16 kHz for what a browser says: `RTCAudioSink` switches to 48 kHz once Opus is
 * decoded at its native rate. A windowed-sinc low-pass (cut-off 7 kHz, 48 taps, Blackman)
 * evaluated at every third input sample, with its history in a preallocated ring: no
 * allocation per call. Hand-written because it runs on every 10 ms frame of every browser
 * party, where libsamplerate-js allocates its output per call.
 */

const TAPS = 48;
const FACTOR = 3;
const CUTOFF_HZ = 7000;
const INPUT_RATE_HZ = 48000;

function designLowPass(): Float32Array {
  const h = new Float32Array(TAPS);
  const fc = CUTOFF_HZ / INPUT_RATE_HZ;
  const middle = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - middle;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const window =
      0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    h[i] = sinc * window;
    sum += h[i];
  }
  for (let i = 0; i < TAPS; i++) h[i] /= sum;
  return h;
}

const COEFFICIENTS = designLowPass();

export class Decimator48to16 {
  /** Twice the taps, so a window of the last TAPS samples is always contiguous. */
  private readonly history = new Float32Array(2 * TAPS);
  private position = 0;
  private phase = 0;

  /**
   * Filters `count` samples of `input` (every `stride`-th value from `offset`: the first
   * channel of interleaved audio) into `output` from `outputOffset`; returns samples written.
   */
  process(
    input: Int16Array,
    offset: number,
    count: number,
    stride: number,
    output: Int16Array,
    outputOffset: number
  ): number {
    const history = this.history;
    let written = 0;
    for (let i = 0; i < count; i++) {
      const sample = input[offset + i * stride];
      const at = this.position;
      history[at] = sample;
      history[at + TAPS] = sample;
      this.position = at + 1 === TAPS ? 0 : at + 1;
      if (++this.phase < FACTOR) continue;
      this.phase = 0;
      // The window starts at the oldest sample, which is where the next write goes.
      let acc = 0;
      const start = this.position;
      for (let k = 0; k < TAPS; k++) acc += history[start + k] * COEFFICIENTS[k];
      const rounded = Math.round(acc);
      output[outputOffset + written++] = rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
    }
    return written;
  }

  reset(): void {
    this.history.fill(0);
    this.position = 0;
    this.phase = 0;
  }
}
