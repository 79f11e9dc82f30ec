/**
 * Plain-TypeScript reference of the packet-loss concealment in assembly/plc.ts (ITU-T G.711
 * Appendix I style: pitch repetition, 20 %/10 ms fade after the first 10 ms, silence at 60 ms,
 * cross-fade on resume and after a skipped frame). Same integer and f64 operations in the same order, so the output is
 * identical sample for sample; the rules are documented in the assembly file.
 */

const BUF_SAMPLES = 240;

function plcGain(t: number, r: number): number {
  const t10 = 80 * r;
  const t60 = 480 * r;
  if (t < t10) return 32768;
  if (t >= t60) return 0;
  return 32768 - ((((t - t10) * 32768) / (t60 - t10)) | 0);
}

function correlation(hist: Int16Array, from: number, to: number, lag: number, stride: number): number {
  let c = 0;
  let e = 0;
  for (let i = from; i < to; i += stride) {
    const a = hist[i];
    const b = hist[i - lag];
    c += a * b;
    e += b * b;
  }
  return e > 0 ? c / Math.sqrt(e) : 0;
}

/** Best pitch period of the h samples in hist (40 ms at rate 8000·r). */
export function findPitch(hist: Int16Array, h: number, r: number): number {
  const w = 160 * r;
  const minP = 40 * r;
  const maxP = 120 * r;
  const step = 2 * r;
  const ws = h - w;
  let best = -1;
  let bestP = minP;
  for (let p = minP; p <= maxP; p += step) {
    const score = correlation(hist, ws, h, p, step);
    if (score > best) {
      best = score;
      bestP = p;
    }
  }
  const lo = Math.max(bestP - step + 1, minP);
  const hi = Math.min(bestP + step - 1, maxP);
  best = -1;
  let fineP = bestP;
  for (let p = lo; p <= hi; p++) {
    const score = correlation(hist, ws, h, p, 1);
    if (score > best) {
      best = score;
      fineP = p;
    }
  }
  return fineP;
}

export class PlcReference {
  lostFrames = 0;
  pitch = 0;
  private pos = 0;
  private t = 0;
  private readonly buf = new Int16Array(BUF_SAMPLES);

  /** n concealment samples into out; hist holds the last 2n samples, oldest first. */
  conceal(hist: Int16Array, out: Int16Array, n: number, r: number): void {
    if (this.lostFrames === 0) this.start(hist, n, r);
    for (let i = 0; i < n; i++) {
      out[i] = (this.buf[this.pos] * plcGain(this.t, r)) >> 15;
      if (++this.pos === this.pitch) this.pos = 0;
      this.t++;
    }
    this.lostFrames++;
  }

  /** The frame before the next one was skipped: join the next real frame as after one lost frame. */
  skip(hist: Int16Array, n: number, r: number): void {
    if (this.lostFrames !== 0) return;
    this.start(hist, n, r);
    this.lostFrames = 1;
  }

  /** Real audio after a loss: cross-fade the synthetic continuation into frame. */
  resume(frame: Int16Array, n: number, r: number): void {
    if (this.lostFrames === 0) return;
    const len = Math.min(32 * r * this.lostFrames, 80 * r, n);
    for (let i = 0; i < len; i++) {
      const syn = (this.buf[this.pos] * plcGain(this.t, r)) >> 15;
      if (++this.pos === this.pitch) this.pos = 0;
      this.t++;
      frame[i] = ((syn * (len - i) + frame[i] * i) / len) | 0;
    }
    this.lostFrames = 0;
  }

  private start(hist: Int16Array, n: number, r: number): void {
    const h = 2 * n;
    this.pitch = findPitch(hist, h, r);
    for (let i = 0; i < this.pitch; i++) this.buf[i] = hist[h - this.pitch + i];
    this.pos = 0;
    this.t = 0;
  }

  reset(): void {
    this.lostFrames = 0;
  }
}
