/**
 * A coach's voice on its way to the one party it coaches (`ConferenceMedia.coach`): the coach's
 * decoded frame, put here once the room has mixed it, is added to that party's private prompt
 * in the next frame, so only that party hears it, 20 ms later than the room would have.
 */
import { sat16 } from '../dsp/reference/mixer.js';

export class WhisperFrame {
  #pcm = new Int16Array(0);
  #pending = false;

  /** A frame waits to be heard. */
  get pending(): boolean {
    return this.#pending;
  }

  /** The coach's frame, at the room's rate (copied: the view is the core's). */
  put(pcm: Int16Array): void {
    if (this.#pcm.length !== pcm.length) this.#pcm = new Int16Array(pcm.length);
    this.#pcm.set(pcm);
    this.#pending = true;
  }

  /**
   * Writes the waiting frame into `prompt`, added to what it holds when `over` (a prompt is
   * playing: both are heard, saturated at full scale), and returns whether there was one. A frame
   * of another rate than `prompt` (the room changed in between) is dropped.
   */
  takeInto(prompt: Int16Array, over: boolean): boolean {
    if (!this.#pending) return false;
    this.#pending = false;
    const pcm = this.#pcm;
    if (pcm.length !== prompt.length) return false;
    if (!over) {
      prompt.set(pcm);
      return true;
    }
    for (let i = 0; i < pcm.length; i++) prompt[i] = sat16(prompt[i] + pcm[i]);
    return true;
  }
}
