/**
 * Drives every `MixRoom` once per tick of the engine's frame clock, then sends the frame's RTP
 * that the rooms' legs queued (`sends`, send-batch.ts). A room's failure is reported and does
 * not stop the others: one bad call never silences the rest.
 *
 * The rooms are what needs frames (a call's leg on its own, a conference, its prompts and
 * recordings, a browser's leg): the clock sleeps while the loop has none and wakes with the first
 * (FrameClock.setIdle). Its other listeners only watch it (metrics, the overload guard).
 */
import { performance } from 'node:perf_hooks';
import type { FrameClock } from '../clock/frame-clock.js';
import type { MixRoom } from './mix-room.js';
import { SendBatch } from '../rtp/send-batch.js';

export class MixLoop {
  private readonly rooms: MixRoom[] = [];
  /** The packets the rooms' legs queue during a tick, sent at its end. */
  readonly sends = new SendBatch();
  /** How long the last tick took to process every room, in ms. */
  lastTickMs = 0;
  /** When the frame being processed is due (FrameClock.tickTimeMs); NaN when ticked by hand. */
  frameTimeMs = NaN;
  private readonly onTick = (index: number): void => {
    this.frameTimeMs = this.clock.tickTimeMs(index);
    this.tick();
  };

  constructor(
    /** The engine's frame clock: RTP sessions ask it to run a tick that came due between two packets. */
    readonly clock: FrameClock,
    private readonly onError: (error: unknown, room: MixRoom | undefined) => void
  ) {
    clock.on('tick', this.onTick);
    clock.setIdle(true);
  }

  get roomCount(): number {
    return this.rooms.length;
  }

  add(room: MixRoom): void {
    if (this.rooms.includes(room)) return;
    this.rooms.push(room);
    if (this.rooms.length === 1) this.clock.setIdle(false);
  }

  remove(room: MixRoom): void {
    const at = this.rooms.indexOf(room);
    if (at < 0) return;
    this.rooms.splice(at, 1);
    if (this.rooms.length === 0) this.clock.setIdle(true);
  }

  tick(): void {
    const started = performance.now();
    const rooms = this.rooms;
    for (let i = 0; i < rooms.length; i++) {
      try {
        rooms[i].processFrame();
      } catch (error) {
        this.onError(error, rooms[i]);
      }
    }
    try {
      this.sends.flush();
    } catch (error) {
      this.onError(error, undefined);
    }
    this.lastTickMs = performance.now() - started;
  }

  close(): void {
    this.clock.off('tick', this.onTick);
    this.rooms.length = 0;
    this.clock.setIdle(true);
  }
}
