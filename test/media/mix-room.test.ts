/**
 * MixRoom's announcements on the DSP core: heard by a member while one plays, and silence again
 * once it has ended (the room stops reading its queue then, and must switch the core's
 * announcement off rather than leave the last frame playing).
 */
import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_SILENT } from '../../engine/dsp/kernels.js';
import { MixRoom, type MixMember } from '../../engine/media/mix-room.js';

const FRAME = 160;
/** PCMU's encoding of a zero sample. */
const ULAW_ZERO = 0xff;

/** A member that says nothing and records whether each frame it hears is silent. */
function listener(kernels: WasmKernels): MixMember & { heard: boolean[] } {
  const partySlot = kernels.createParty('PCMU');
  const heard: boolean[] = [];
  return {
    partySlot,
    heard,
    beforeMix: () => kernels.setInput(partySlot, INPUT_SILENT),
    afterMix: () => {
      const out = kernels.outputPayload(partySlot).subarray(0, kernels.outputBytes(partySlot));
      heard.push(out.some((byte) => byte !== ULAW_ZERO));
    }
  };
}

describe('MixRoom announcements', () => {
  it('are heard while one plays and not before or after it', async () => {
    const kernels = new WasmKernels();
    const room = new MixRoom(kernels, 8000);
    const member = listener(kernels);
    room.add(member);
    try {
      for (let f = 0; f < 3; f++) room.processFrame();
      const tone = Int16Array.from({ length: 3 * FRAME }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
      const played = room.announcements.enqueue([tone]);
      for (let f = 0; f < 8; f++) room.processFrame();
      await played;
      expect(member.heard).toEqual([
        false,
        false,
        false,
        true,
        true,
        true,
        false,
        false,
        false,
        false,
        false
      ]);
    } finally {
      room.close();
      kernels.destroyParty(member.partySlot);
      kernels.close();
    }
  });
});
