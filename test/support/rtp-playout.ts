/**
 * Drives a JitterBuffer with a network trace and a 20 ms frame clock, as the engine does, and
 * records what was played. Each packet's payload carries its frame index, so the result shows
 * exactly which frames came out, in what order, and how late.
 */
import { FRAME_LOST, FRAME_SILENT, FRAME_STOPPED, JitterBuffer } from '../../engine/rtp/jitter-buffer.js';
import type { JitterBufferOptions } from '../../engine/rtp/jitter-buffer.js';
import type { TracePacket } from './rtp-trace.js';

export interface PlayoutResult {
  /** Frame index of each played frame, in play order. */
  played: number[];
  /** FRAME_LOST results (concealed or stretched frames) up to the last played frame. */
  lost: number;
  silent: number;
  /** Ticks from the first played frame to the end. */
  activeTicks: number;
  /** Longest run of consecutive FRAME_LOST. */
  longestLostRun: number;
  /** Mean arrival-to-playout delay of played packets (ms). */
  addedDelayMs: number;
  /** Packets that arrived (first copies) but were never played, per cent of those sent. */
  lateLossPct: number;
  buffer: JitterBuffer;
}

export function playTrace(
  arrivals: readonly TracePacket[],
  sent: number,
  opts: Partial<JitterBufferOptions> & { tickPhaseMs?: number; frameMs?: number; ssrc?: number } = {}
): PlayoutResult {
  const frameMs = opts.frameMs ?? 20;
  const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160, ...opts });
  const payload = new Uint8Array(160);
  const out = new Uint8Array(1280);
  const played: number[] = [];
  const playedAt = new Map<number, number>();
  const arrivedAt = new Map<number, number>();
  let lost = 0;
  let silent = 0;
  let run = 0;
  let longestLostRun = 0;
  let activeTicks = 0;
  let lostAtLastPlay = 0;
  let next = 0;
  const endMs = (arrivals.at(-1)?.arrivalMs ?? 0) + 1000;
  for (let now = opts.tickPhaseMs ?? 7; now < endMs; now += frameMs) {
    while (next < arrivals.length && arrivals[next].arrivalMs <= now) {
      const p = arrivals[next++];
      new DataView(payload.buffer).setUint32(0, p.index);
      if (!arrivedAt.has(p.index)) arrivedAt.set(p.index, p.arrivalMs);
      jb.push(
        {
          sequenceNumber: p.sequenceNumber,
          timestamp: p.timestamp,
          ssrc: opts.ssrc ?? 0x1234,
          marker: p.marker,
          payloadOffset: 0,
          payloadLength: payload.length,
          arrivalMs: p.arrivalMs
        },
        payload
      );
    }
    const r = jb.pop(out, now);
    if (played.length > 0 || r > 0) activeTicks++;
    if (r === FRAME_LOST) {
      lost++;
      longestLostRun = Math.max(longestLostRun, ++run);
    } else {
      run = 0;
      if (r === FRAME_SILENT || r === FRAME_STOPPED) silent++;
      else {
        const index = new DataView(out.buffer).getUint32(0);
        played.push(index);
        lostAtLastPlay = lost;
        playedAt.set(index, now);
      }
    }
  }
  let delaySum = 0;
  for (const [index, t] of playedAt) delaySum += t - (arrivedAt.get(index) ?? t);
  return {
    played,
    lost: lostAtLastPlay,
    silent,
    activeTicks,
    longestLostRun,
    addedDelayMs: playedAt.size === 0 ? 0 : delaySum / playedAt.size,
    lateLossPct: (100 * (arrivedAt.size - playedAt.size)) / sent,
    buffer: jb
  };
}
