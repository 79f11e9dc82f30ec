/**
 * What one channel hears on its own, outside a conference mix: queued prompts (played once, in
 * order) over an optional looping background such as ringback or a room's "conference stopped"
 * file. The frame loop calls `readFrame` once per tick with a view of the channel's private
 * prompt slot in WebAssembly memory, but only after `onSound` told it there is something to play
 * and until `readFrame` returns false: most channels play nothing most of the time, and asking
 * every idle player every frame costs a loaded engine its cache.
 */
import { AnnouncementQueue } from './announcement-queue.js';

export class PromptPlayer {
  readonly queue: AnnouncementQueue;
  private loop: Int16Array | undefined;
  private loopPos = 0;

  /** `onSound`: called when a prompt is queued or a loop starts, so the frame loop starts reading. */
  constructor(
    sampleRateHz: number,
    private readonly onSound: () => void = () => undefined
  ) {
    this.queue = new AnnouncementQueue({ sampleRateHz, pauseMs: 0, onQueued: onSound });
  }

  /** Loops `pcm` underneath the queued prompts until `stopLoop`. */
  startLoop(pcm: Int16Array): void {
    if (this.loop === pcm) return;
    this.loop = pcm;
    this.loopPos = 0;
    this.onSound();
  }

  stopLoop(): void {
    this.loop = undefined;
  }

  /** Plays `parts` back to back as one prompt; resolves when it has been played, rejects if `signal` stops it. */
  play(parts: Int16Array[], signal?: AbortSignal): Promise<void> {
    return this.queue.enqueue(parts, { signal });
  }

  /** Stops every queued prompt (their promises reject) but not the loop. */
  stopPrompts(): void {
    this.queue.clear();
  }

  /** Fills `target` with this frame's audio; false when there is nothing to hear. */
  readFrame(target: Int16Array): boolean {
    if (this.queue.readFrame(target)) return true;
    const loop = this.loop;
    if (loop === undefined || loop.length === 0) return false;
    let written = 0;
    while (written < target.length) {
      const n = Math.min(target.length - written, loop.length - this.loopPos);
      target.set(loop.subarray(this.loopPos, this.loopPos + n), written);
      written += n;
      this.loopPos = (this.loopPos + n) % loop.length;
    }
    return true;
  }

  close(): void {
    this.loop = undefined;
    this.queue.close();
  }
}
