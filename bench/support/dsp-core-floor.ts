/**
 * The lower bound of the media path, for `npm run bench -- media-path`: the same parties, rooms
 * and audio with nothing but the work no design can avoid. Each party's packet arrives in a
 * buffer of its own (as dgram hands one per datagram), its payload goes straight into the party's
 * slot of WebAssembly memory, each room is one `processRoom` call, and the RTP header is written
 * in front of each output before it is handed to a counting sink. No RTP session, jitter buffer,
 * talker decision, leg or send batch: what the pipeline costs over this is its JavaScript.
 */
import type { DspKernels } from '../../engine/dsp/kernels.js';
import type { InbandDtmfMode } from '../../engine/dtmf/inband-dtmf-mode.js';
import { ulawTone } from './ulaw-tone.js';

const ROOM_SIZE = 3;
const PAYLOAD_BYTES = 160;
const HEADER_BYTES = 12;

export interface CoreFloor {
  frame(): void;
  sent(): number;
  close(): void;
}

export function buildCoreFloor(
  kernels: DspKernels,
  participants: number,
  inbandDtmf: InbandDtmfMode
): CoreFloor {
  const tone = ulawTone(440, 6000, 8000);
  const parties: number[] = [];
  const rooms: number[] = [];
  const received: Buffer[] = [];
  for (let i = 0; i < participants; i++) {
    if (i % ROOM_SIZE === 0) rooms.push(kernels.createRoom(8000));
    const party = kernels.createParty('PCMU');
    kernels.addParty(rooms[rooms.length - 1], party);
    kernels.setTalker(party, true);
    // The callers offer telephone-event, so 'auto' runs no detector.
    kernels.setInbandDtmf(party, inbandDtmf === 'always');
    parties.push(party);
    received.push(Buffer.alloc(HEADER_BYTES + PAYLOAD_BYTES));
  }
  let frame = 0;
  let sent = 0;
  return {
    frame(): void {
      const at = (frame % 50) * PAYLOAD_BYTES;
      const payload = tone.subarray(at, at + PAYLOAD_BYTES);
      for (let i = 0; i < participants; i++) received[i].set(payload, HEADER_BYTES);
      for (let i = 0; i < participants; i++) {
        const party = parties[i];
        kernels.inputPayload(party).set(received[i].subarray(HEADER_BYTES));
        kernels.setInput(party, PAYLOAD_BYTES);
      }
      for (let r = 0; r < rooms.length; r++) kernels.processRoom(rooms[r]);
      for (let i = 0; i < participants; i++) {
        const packet = kernels.outputPacket(parties[i]);
        packet[0] = 0x80;
        packet[1] = 0;
        packet.writeUInt16BE(frame & 0xffff, 2);
        packet.writeUInt32BE((frame * PAYLOAD_BYTES) >>> 0, 4);
        packet.writeUInt32BE(0x10000000 + i, 8);
        if (kernels.outputBytes(parties[i]) === PAYLOAD_BYTES) sent++;
      }
      frame++;
    },
    sent: () => sent,
    close(): void {
      for (const party of parties) kernels.destroyParty(party);
      for (const room of rooms) kernels.destroyRoom(room);
    }
  };
}
