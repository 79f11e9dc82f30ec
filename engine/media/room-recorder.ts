/**
 * Records a conference room as a listener who says nothing hears it: every talker and every
 * announcement, as FreeSWITCH's `conference record` does. It is one more party of the room in the
 * DSP core (L16, listen only, no in-band DTMF detection) whose output is written to a WAV file at
 * the room's rate. In an 8 kHz room that party's 16 kHz output carries the room's own samples on
 * its even positions (the half-band interpolator copies its input there, assembly/halfband.ts),
 * so every other sample is the mix itself, unfiltered.
 */
import type { DspKernels } from '../dsp/kernels.js';
import type { MixMember, MixRoom } from './mix-room.js';
import type { Recorder } from './recorder.js';

export class RoomRecorder implements MixMember {
  readonly partySlot: number;
  /** One frame at the room's rate, reused every frame. */
  private readonly frame: Int16Array;
  /** Output bytes per room sample: 4 in an 8 kHz room (L16 is 16 kHz), 2 in a 16 kHz one. */
  private readonly strideBytes: number;
  private closed = false;
  private markStopped!: () => void;
  /** Settles when the recorder leaves the room (`close`). */
  readonly stopped = new Promise<void>((resolve) => {
    this.markStopped = resolve;
  });

  constructor(
    private readonly kernels: DspKernels,
    private readonly mix: MixRoom,
    private readonly recorder: Recorder,
    private readonly onFull: () => void
  ) {
    this.partySlot = kernels.createParty('L16');
    kernels.setInbandDtmf(this.partySlot, false);
    this.frame = new Int16Array(mix.sampleRateHz / 50);
    this.strideBytes = (2 * 16000) / mix.sampleRateHz;
    mix.add(this);
  }

  beforeMix(): void {
    this.kernels.setInput(this.partySlot, 0); // silence, not a lost frame to conceal
  }

  afterMix(): void {
    const payload = this.kernels.outputPayload(this.partySlot);
    const frame = this.frame;
    const stride = this.strideBytes;
    // L16 is big-endian (RFC 3551 §4.5.11).
    for (let i = 0, at = 0; i < frame.length; i++, at += stride)
      frame[i] = ((payload[at] << 24) >> 16) | payload[at + 1];
    if (!this.recorder.pushFrame(frame)) this.onFull();
  }

  /** Leaves the room and frees the party slot; the file is the recording's owner's to save. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mix.remove(this);
    this.kernels.destroyParty(this.partySlot);
    this.markStopped();
  }
}
