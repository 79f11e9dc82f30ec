/**
 * Counts calls to a stop method (stopPlaying, stopRecording), so work that began before one and
 * finishes after it (speech being synthesised, a file being opened) can tell it was meant for it.
 */
export class StopRequests {
  #asked = 0;

  ask(): void {
    this.#asked++;
  }

  /** Whether a stop has been asked since `since()` was called. */
  since(): () => boolean {
    const at = this.#asked;
    return () => this.#asked !== at;
  }
}
