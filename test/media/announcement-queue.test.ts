/** AnnouncementQueue: parts played as one announcement, announcements queued, frame reads, clear/close. */
import { describe, expect, it } from 'vitest';
import { AnnouncementQueue } from '../../engine/media/announcement-queue.js';
import { EngineError } from '../../engine/errors.js';

const RATE = 8000;
const FRAME = 160;

/** A part: `lead` zeros, `loud` samples of a constant marker value, `tail` zeros. */
function part(marker: number, loud: number, lead = 0, tail = 0): Int16Array {
  const pcm = new Int16Array(lead + loud + tail);
  pcm.fill(marker, lead, lead + loud);
  return pcm;
}

/** Reads frames until idle; returns everything read as one array. */
function drain(queue: AnnouncementQueue, maxFrames = 10_000): Int16Array {
  const frame = new Int16Array(FRAME);
  const out: number[] = [];
  for (let i = 0; i < maxFrames && queue.readFrame(frame); i++) out.push(...frame);
  return Int16Array.from(out);
}

/** Runs of equal values: [value, length][] */
function runs(pcm: Int16Array): [number, number][] {
  const result: [number, number][] = [];
  for (const v of pcm) {
    const last = result[result.length - 1];
    if (last && last[0] === v) last[1]++;
    else result.push([v, 1]);
  }
  return result;
}

describe('AnnouncementQueue', () => {
  it('plays prefix and entry parts as one announcement with a short gap, trimming their silent edges', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, gapMs: 100, trimSilence: true });
    const done = queue.enqueue([part(1000, 800, 2000, 1600), part(2000, 1200, 1200, 2400)]);
    expect(queue.playing).toBe(true);
    const out = drain(queue);
    const margin = 0.015 * RATE;
    const r = runs(out).filter(([, n]) => n > 0);
    // margin, "george", margin + gap + margin, "has joined", margin, then the frame's zero padding.
    expect(r[0]).toEqual([0, margin]);
    expect(r[1]).toEqual([1000, 800]);
    expect(r[2]).toEqual([0, margin + 0.1 * RATE + margin]);
    expect(r[3]).toEqual([2000, 1200]);
    expect(r[4][0]).toBe(0);
    expect(r[4][1]).toBeLessThan(margin + FRAME);
    expect(r).toHaveLength(5);
    await expect(done).resolves.toBeUndefined();
    expect(queue.playing).toBe(false);
  });

  it('announces two parties one after the other, never mixed', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false, gapMs: 0, pauseMs: 50 });
    const order: string[] = [];
    const first = queue.enqueue([part(111, 1000)]).then(() => order.push('first'));
    const second = queue.enqueue([part(222, 700)]).then(() => order.push('second'));
    const out = drain(queue);
    const r = runs(out);
    expect(r[0]).toEqual([111, 1000]);
    expect(r[1][0]).toBe(0);
    expect(r[1][1]).toBeGreaterThanOrEqual(0.05 * RATE);
    expect(r[2]).toEqual([222, 700]);
    expect(out.filter((v) => v !== 0 && v !== 111 && v !== 222)).toHaveLength(0);
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('resolves only after the last sample has been read', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false });
    let resolved = false;
    const done = queue.enqueue([part(5, FRAME * 2 + 10)]).then(() => (resolved = true));
    const frame = new Int16Array(FRAME);
    expect(queue.readFrame(frame)).toBe(true);
    expect(queue.readFrame(frame)).toBe(true);
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(queue.readFrame(frame)).toBe(true);
    expect(frame[9]).toBe(5);
    expect(frame[10]).toBe(0);
    await done;
    expect(resolved).toBe(true);
    frame.fill(77);
    expect(queue.readFrame(frame)).toBe(false);
    expect(frame[0]).toBe(77);
  });

  it('writes into a view of a larger buffer (like WebAssembly memory) without touching its neighbours', () => {
    const memory = new Int16Array(1000).fill(-1);
    const view = memory.subarray(320, 480);
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false });
    void queue.enqueue([part(9, 50)]);
    expect(queue.readFrame(view)).toBe(true);
    expect(memory[319]).toBe(-1);
    expect(memory[480]).toBe(-1);
    expect(memory[320]).toBe(9);
    expect(memory[370]).toBe(0);
  });

  it('clear() drops the playing and waiting announcements (a hang-up) and keeps working afterwards', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE });
    const a = queue.enqueue([part(1000, 4000)]).catch((e: unknown) => e);
    const b = queue.enqueue([part(2000, 4000)]).catch((e: unknown) => e);
    queue.readFrame(new Int16Array(FRAME));
    queue.clear();
    expect(queue.playing).toBe(false);
    expect(queue.readFrame(new Int16Array(FRAME))).toBe(false);
    for (const outcome of [await a, await b]) {
      expect(outcome).toBeInstanceOf(EngineError);
      expect((outcome as EngineError).code).toBe('ERR_PROMPT_STOPPED');
    }
    const c = queue.enqueue([part(3000, 100)]);
    drain(queue);
    await expect(c).resolves.toBeUndefined();
  });

  it("an announcement's abort signal drops that one only, playing or waiting; the rest play in order", async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false, gapMs: 0, pauseMs: 0 });
    const [playing, waiting] = [new AbortController(), new AbortController()];
    const a = queue.enqueue([part(1000, 4000)], { signal: playing.signal }).catch((e: unknown) => e);
    const b = queue.enqueue([part(2000, 320)]);
    const c = queue.enqueue([part(3000, 320)], { signal: waiting.signal }).catch((e: unknown) => e);
    const d = queue.enqueue([part(4000, 320)]);
    queue.readFrame(new Int16Array(FRAME));
    playing.abort();
    waiting.abort();
    expect(queue.length).toBe(2);
    expect(runs(drain(queue))).toEqual([
      [2000, 320],
      [4000, 320]
    ]);
    await expect(b).resolves.toBeUndefined();
    await expect(d).resolves.toBeUndefined();
    for (const outcome of [await a, await c]) expect(outcome).toMatchObject({ code: 'ERR_PROMPT_STOPPED' });
    // A signal aborted already queues nothing; one that aborts after the end changes nothing.
    await expect(queue.enqueue([part(1000, 10)], { signal: playing.signal })).rejects.toMatchObject({
      code: 'ERR_PROMPT_STOPPED'
    });
    expect(queue.playing).toBe(false);
    const late = new AbortController();
    const e = queue.enqueue([part(5000, 160)], { signal: late.signal });
    drain(queue);
    late.abort();
    await expect(e).resolves.toBeUndefined();
  });

  it('close() rejects everything with CLOSED, refuses new announcements and is idempotent', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE });
    const a = queue.enqueue([part(1000, 4000)]).catch((e: unknown) => e);
    queue.close();
    queue.close();
    expect(await a).toMatchObject({ code: 'ERR_CLOSED' });
    await expect(queue.enqueue([part(1000, 10)])).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(queue.readFrame(new Int16Array(FRAME))).toBe(false);
  });

  it('does not raise an unhandled rejection for an announcement nobody awaits', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const queue = new AnnouncementQueue({ sampleRateHz: RATE });
      void queue.enqueue([part(1000, 4000)]);
      queue.clear();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects bad parts and bounds its length', async () => {
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, maxQueued: 2 });
    await expect(queue.enqueue([new Float32Array(10) as unknown as Int16Array])).rejects.toThrow(TypeError);
    const kept = [queue.enqueue([part(1000, 10)]), queue.enqueue([part(1000, 10)])];
    await expect(queue.enqueue([part(1000, 10)])).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' });
    // An all-silent announcement has nothing to play.
    await expect(
      new AnnouncementQueue({ sampleRateHz: RATE }).enqueue([new Int16Array(500)])
    ).resolves.toBeUndefined();
    drain(queue);
    await Promise.all(kept);
  });

  it('tells onQueued of each announcement queued, and of nothing it refused or that had nothing to play', async () => {
    let told = 0;
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, maxQueued: 1, onQueued: () => told++ });
    await expect(queue.enqueue([new Int16Array(500)])).resolves.toBeUndefined();
    await expect(queue.enqueue([new Float32Array(10) as unknown as Int16Array])).rejects.toThrow(TypeError);
    expect(told).toBe(0);
    const played = queue.enqueue([part(1000, 10)]);
    expect(told).toBe(1);
    await expect(queue.enqueue([part(1000, 10)])).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' });
    expect(told).toBe(1);
    drain(queue);
    await played;
  });

  it('scans a shared prompt for its silence once, however many calls queue it: eight calls starting a quiet hour held the frame clock up 1.36 s', async () => {
    // The prompt's samples, counted as they are read: a Proxy passes for the Int16Array it wraps.
    let reads = 0;
    const quiet = part(5000, 1, 40_000, 40_000);
    const shared = new Proxy(quiet, {
      get(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
    });
    const queues = Array.from({ length: 8 }, () => new AnnouncementQueue({ sampleRateHz: RATE, pauseMs: 0 }));
    queues[0].enqueue([shared]).catch(() => undefined);
    const once = reads;
    expect(once).toBeGreaterThan(80_000);
    for (const queue of queues.slice(1)) queue.enqueue([shared]).catch(() => undefined);
    expect(reads).toBe(once);
    for (const queue of queues) queue.close();
  });
});

/** A floor the test grants by hand: what the queue asked of it, in order. */
class HandFloor {
  held = false;
  readonly log: string[] = [];
  private granted: ((afterOther: boolean) => void) | undefined;
  take(granted: (afterOther: boolean) => void): boolean {
    if (this.held) return true;
    if (!this.granted) this.log.push('ask');
    this.granted = granted;
    return false;
  }
  release(): void {
    if (this.held || this.granted) this.log.push('release');
    this.held = false;
    this.granted = undefined;
  }
  grant(afterOther: boolean): void {
    const granted = this.granted;
    this.granted = undefined;
    this.held = true;
    granted?.(afterOther);
  }
}

describe('AnnouncementQueue with a floor shared with other engines', () => {
  it('begins an announcement only once it holds the floor, after a pause when another engine sounded, and gives it up after each', async () => {
    let woken = 0;
    const queue = new AnnouncementQueue({
      sampleRateHz: RATE,
      trimSilence: false,
      gapMs: 0,
      pauseMs: 100,
      onQueued: () => woken++
    });
    const floor = new HandFloor();
    queue.useFloor(floor);
    const started: string[] = [];
    const first = queue.enqueue([part(111, 320)], { onStart: () => started.push('first') });
    const second = queue.enqueue([part(222, 320)], { onStart: () => started.push('second') });
    const frame = new Int16Array(FRAME);
    expect(queue.readFrame(frame)).toBe(false);
    expect(started).toEqual([]);
    const wokenBefore = woken;
    floor.grant(true);
    expect(woken).toBe(wokenBefore + 1);
    // 100 ms of pause (the other engine's last audio is still on its way), then the first.
    const out = drain(queue);
    expect(runs(out).slice(0, 2)).toEqual([
      [0, 800],
      [111, 320]
    ]);
    await first;
    expect(started).toEqual(['first']);
    // Given up after the first; the second waits for it again.
    expect(floor.log).toEqual(['ask', 'release', 'ask']);
    floor.grant(false);
    const rest = runs(drain(queue)).filter(([v]) => v !== 0);
    expect(rest).toEqual([[222, 320]]);
    await second;
    expect(floor.log).toEqual(['ask', 'release', 'ask', 'release']);
  });

  it('drops an announcement stopped while it waits for the floor, unstarted, and the next one asks anew', async () => {
    let woken = 0;
    const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false, onQueued: () => woken++ });
    const floor = new HandFloor();
    queue.useFloor(floor);
    const entry = new AbortController();
    let entryStarted = false;
    const first = queue.enqueue([part(111, 320)], {
      signal: entry.signal,
      onStart: () => (entryStarted = true)
    });
    const second = queue.enqueue([part(222, 320)]);
    expect(queue.readFrame(new Int16Array(FRAME))).toBe(false);
    const wokenBefore = woken;
    entry.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_PROMPT_STOPPED' });
    expect(entryStarted).toBe(false);
    expect(woken).toBe(wokenBefore + 1);
    expect(queue.readFrame(new Int16Array(FRAME))).toBe(false);
    expect(floor.log).toEqual(['ask', 'release', 'ask']);
    floor.grant(false);
    expect(runs(drain(queue)).filter(([v]) => v !== 0)).toEqual([[222, 320]]);
    await second;
    queue.enqueue([part(333, 320)]).catch(() => undefined);
    expect(queue.readFrame(new Int16Array(FRAME))).toBe(false);
    queue.close();
    expect(floor.log.at(-1)).toBe('release');
    expect(floor.held).toBe(false);
  });
});
