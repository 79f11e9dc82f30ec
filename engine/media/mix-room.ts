/**
 * One room of the DSP core as the frame loop sees it: a room slot in WebAssembly memory, the
 * members whose party slots belong to it, and the announcement queue that every member hears.
 * A conference owns one; so does each channel when it is on its own (a one-party room that
 * hears only its private prompts).
 */
import type { DspKernels } from '../dsp/kernels.js';
import { AnnouncementQueue } from './announcement-queue.js';

/** A party slot taking part in a room's frame: the media leg of a channel. */
export interface MixMember {
  readonly partySlot: number;
  /** Before the room is processed: write this frame's input payload and private prompt. */
  beforeMix(): void;
  /** After: send the encoded output, read digits and the decoded input. */
  afterMix(): void;
}

export class MixRoom {
  readonly roomSlot: number;
  readonly sampleRateHz: number;
  readonly announcements: AnnouncementQueue;
  /** Kept as an array: the frame loop walks it every 20 ms without allocating. */
  readonly members: MixMember[] = [];
  private closed = false;
  /** An announcement may be playing: set when one is queued, cleared when a frame finds none. */
  private announcing = false;

  constructor(
    private readonly kernels: DspKernels,
    sampleRateHz: 8000 | 16000
  ) {
    this.sampleRateHz = sampleRateHz;
    this.announcements = new AnnouncementQueue({
      sampleRateHz,
      onQueued: () => {
        this.announcing = true;
      }
    });
    this.roomSlot = kernels.createRoom(sampleRateHz);
  }

  add(member: MixMember): void {
    if (this.members.includes(member)) return;
    this.kernels.addParty(this.roomSlot, member.partySlot);
    this.members.push(member);
  }

  remove(member: MixMember): void {
    const at = this.members.indexOf(member);
    if (at < 0) return;
    this.members.splice(at, 1);
    this.kernels.removeParty(this.roomSlot, member.partySlot);
  }

  /** One 20 ms frame: inputs, announcement, the single WASM call, outputs. */
  processFrame(): void {
    const members = this.members;
    if (members.length === 0) {
      // Nobody listens, but time passes: an announcement plays out to a room whose parties have no
      // call (joined through the room registry), rather than leave its say() waiting for good.
      if (this.announcing) {
        this.announcing = this.announcements.readFrame(this.kernels.announcement(this.roomSlot));
        this.kernels.setAnnouncementActive(this.roomSlot, this.announcing);
      }
      return;
    }
    for (let i = 0; i < members.length; i++) members[i].beforeMix();
    if (this.announcing) {
      this.announcing = this.announcements.readFrame(this.kernels.announcement(this.roomSlot));
      this.kernels.setAnnouncementActive(this.roomSlot, this.announcing);
    }
    this.kernels.processRoom(this.roomSlot);
    for (let i = 0; i < members.length; i++) members[i].afterMix();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const member of [...this.members]) this.remove(member);
    this.announcements.close();
    this.kernels.destroyRoom(this.roomSlot);
  }
}
